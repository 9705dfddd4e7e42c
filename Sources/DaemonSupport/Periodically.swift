import ServiceLifecycle

/// Runs `body` every `interval` until the daemon shuts down gracefully or the task is cancelled:
/// the loop of the daemons' periodic services.
public func repeatUntilShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    try? await cancelWhenGracefulShutdown {
        while true {
            try await Task.sleep(for: interval)
            await body()
        }
    }
}
