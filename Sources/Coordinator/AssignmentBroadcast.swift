import NIOConcurrencyHelpers
import Synchronization

/// Tells every connected agent session that assignments may have changed (a stage advanced, an
/// agent was enrolled, a rollout closed), so each re-reads its own from the ledger. Also the
/// coordinator's view of which agents are connected right now.
final class AssignmentBroadcast: Sendable {
    private struct Subscriber {
        let agentID: String
        let push: AssignmentPush
    }

    private let subscribers = NIOLockedValueBox<[Int: Subscriber]>([:])
    private let nextID = Atomic(0)

    /// Registers a session's push and runs it once at once, then after every `announce()`, until
    /// `unsubscribe` with the returned id.
    func subscribe(agentID: String, _ push: AssignmentPush) -> Int {
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLockedValue { $0[id] = Subscriber(agentID: agentID, push: push) }
        push.poke()
        return id
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLockedValue { $0.removeValue(forKey: id) }?.push.stop()
    }

    func announce() {
        for subscriber in subscribers.withLockedValue({ Array($0.values) }) { subscriber.push.poke() }
    }

    var connectedAgents: Set<String> {
        subscribers.withLockedValue { Set($0.values.map(\.agentID)) }
    }
}

/// One session's sending of its assignment, run when poked. Between pokes it holds no task: a task
/// waiting for the next change cost each of 10,000 sessions about 8 KB of async frames. One send
/// runs at a time; pokes during it coalesce into one more.
final class AssignmentPush: Sendable {
    private enum State {
        case idle, sending, sendingAgain, stopped
    }

    private let state = NIOLockedValueBox(State.idle)
    private let send: @Sendable () async throws -> Void
    private let failed: @Sendable (any Error) -> Void

    /// `send` sends the assignment if it changed; `failed` hears its error, after which the push stops.
    init(send: @escaping @Sendable () async throws -> Void, failed: @escaping @Sendable (any Error) -> Void) {
        self.send = send
        self.failed = failed
    }

    func poke() {
        let start = state.withLockedValue { state in
            switch state {
            case .idle:
                state = .sending
                return true
            case .sending:
                state = .sendingAgain
                return false
            case .sendingAgain, .stopped:
                return false
            }
        }
        if start { Task { await drain() } }
    }

    /// No send starts after this; one under way finishes or fails quietly.
    func stop() {
        state.withLockedValue { $0 = .stopped }
    }

    private func drain() async {
        repeat {
            do {
                try await send()
            } catch {
                let wasRunning = state.withLockedValue { state in
                    defer { state = .stopped }
                    return state != .stopped
                }
                if wasRunning { failed(error) }
                return
            }
        } while state.withLockedValue { state in
            switch state {
            case .sendingAgain:
                state = .sending
                return true
            case .sending:
                state = .idle
                return false
            case .stopped:
                return false
            case .idle:
                preconditionFailure("a push finished that was not running")
            }
        }
    }
}
