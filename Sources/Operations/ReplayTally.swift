import NIOConcurrencyHelpers
import Synchronization

/// Hands out row numbers to the replay workers.
final class RowCounter: Sendable {
    private let next = Atomic(0)

    func take(below limit: Int) -> Int? {
        let row = next.add(1, ordering: .relaxed).oldValue
        return row < limit ? row : nil
    }
}

/// Counts replay outcomes from many workers.
final class ReplayTally: Sendable {
    private let state: NIOLockedValueBox<TrafficReplay.Progress>
    private let started = ContinuousClock.now

    init(total: Int) {
        state = NIOLockedValueBox(TrafficReplay.Progress(total: total, succeeded: 0, failed: 0, elapsed: .zero))
    }

    /// Records one request (`error` nil on success) and returns the progress so far.
    func record(_ error: String?) -> TrafficReplay.Progress {
        state.withLockedValue { progress in
            if let error {
                progress.failed += 1
                if progress.firstError == nil { progress.firstError = error }
            } else {
                progress.succeeded += 1
            }
            progress.elapsed = started.duration(to: .now)
            return progress
        }
    }

    func snapshot() -> TrafficReplay.Progress {
        state.withLockedValue { progress in
            progress.elapsed = started.duration(to: .now)
            return progress
        }
    }
}
