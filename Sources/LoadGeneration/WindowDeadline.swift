import NIOConcurrencyHelpers

/// When the simulated agents stop making windows: the plan's duration after the run starts, or
/// sooner when whoever drives the run has seen what it waited for (`LoadGenerator.endWindows`), a
/// decided rollout, say. Shared by every agent and the run's monitor.
final class WindowDeadline: Sendable {
    private let instant = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

    /// Set once, at the start of the run; an earlier `end()` still wins.
    func start(at start: ContinuousClock.Instant, lasting duration: Duration) {
        instant.withLockedValue { $0 = $0 ?? start + duration }
    }

    /// Windows stop now.
    func end(at now: ContinuousClock.Instant = .now) {
        instant.withLockedValue { $0 = min($0 ?? now, now) }
    }

    func hasPassed(at now: ContinuousClock.Instant = .now) -> Bool {
        instant.withLockedValue { $0.map { now >= $0 } ?? false }
    }
}
