import Synchronization

/// Tells every connected agent session that assignments may have changed (a stage advanced, an
/// agent was enrolled, a rollout closed), so each re-reads its own from the ledger. Also the
/// coordinator's view of which agents are connected right now.
final class AssignmentBroadcast: Sendable {
    private struct Subscriber {
        let agentID: String
        let continuation: AsyncStream<Void>.Continuation
    }

    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextID = Atomic(0)

    /// A stream that yields once at once and then after every `announce()`; bursts coalesce.
    func subscribe(agentID: String) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = Subscriber(agentID: agentID, continuation: continuation) }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        continuation.yield()
        return stream
    }

    func announce() {
        for subscriber in subscribers.withLock({ Array($0.values) }) { subscriber.continuation.yield() }
    }

    var connectedAgents: Set<String> {
        subscribers.withLock { Set($0.values.map(\.agentID)) }
    }
}
