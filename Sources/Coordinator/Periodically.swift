import ServiceLifecycle

/// Runs `body` every `interval` until the coordinator shuts down gracefully or the task is cancelled:
/// the loop of the coordinator's periodic services.
func repeatUntilShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    try? await cancelWhenGracefulShutdown {
        while true {
            try await Task.sleep(for: interval)
            await body()
        }
    }
}
