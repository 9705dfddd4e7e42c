import NIOConcurrencyHelpers

/// One session's windows awaiting their commit, at most `limit` at once: `acquire` waits while all
/// credits are out, so an agent that sends faster than the ledger acks it stops being read, while
/// its windows already in flight commit in the shared batches.
final class WindowCredits: Sendable {
    private struct State {
        var available: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    let limit: Int
    private let state: NIOLockedValueBox<State>

    init(limit: Int) {
        precondition(limit >= 1, "at least one window may be in flight")
        self.limit = limit
        state = NIOLockedValueBox(State(available: limit))
    }

    /// Whether a credit is free now (without taking it).
    var isAvailable: Bool { state.withLockedValue { $0.available > 0 } }
    var inFlight: Int { state.withLockedValue { limit - $0.available } }

    /// Takes a credit, waiting for a `release` when none is free.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLockedValue { state in
                guard state.available > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Returns a credit, handing it straight to the longest waiter if there is one.
    func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.available += 1
                precondition(state.available <= limit, "a window credit was released that was never acquired")
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
