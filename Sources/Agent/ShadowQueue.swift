import Inference
import NIOConcurrencyHelpers
import Synchronization

/// One request the primary model already answered, waiting for the other one to run in shadow.
struct ShadowSample: Sendable {
    let assignmentID: String
    let feeds: [String: Tensor]
    let primaryOutput: Tensor
    /// Ground truth per row, when the caller sent a `label` parameter.
    let labels: [Int]?
    /// The request's id (the caller's, or one the agent gave it): what a late label names.
    let requestID: String
    let primaryLatencyMicros: Int
}

/// Bounded hand-off from the request path to the shadow runner. `offer` never waits: when the
/// queue is full the sample is dropped and counted, so shadowing can never slow the answer.
final class ShadowQueue: Sendable {
    enum Work: Sendable {
        case sample(ShadowSample)
        /// A clock tick, so a quiet window is still sealed on time.
        case tick
    }

    let work: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation
    private let drops = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)

    init(capacity: Int) {
        (work, continuation) = AsyncStream.makeStream(of: Work.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    func offer(_ sample: ShadowSample) {
        if case .dropped = continuation.yield(.sample(sample)) {
            drops.add(1, ordering: .relaxed)
        }
    }

    func tick() {
        continuation.yield(.tick)
    }

    /// Ends `work` for a shutdown: the runner stops at its next element, and what is still buffered
    /// is not shadowed (those requests were answered; only their comparison is lost).
    func close() {
        closed.store(true, ordering: .releasing)
        continuation.finish()
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Drops since the last call.
    func takeDrops() -> Int {
        drops.exchange(0, ordering: .relaxed)
    }
}

/// Wakes the coordinator link when a window is sealed. Each link session subscribes anew.
final class WindowNotifier: Sendable {
    private let subscriber = NIOLockedValueBox<AsyncStream<Void>.Continuation?>(nil)

    func subscribe() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        subscriber.withLockedValue { $0 = continuation }
        continuation.yield()
        return stream
    }

    func signal() {
        _ = subscriber.withLockedValue { $0?.yield() }
    }
}
