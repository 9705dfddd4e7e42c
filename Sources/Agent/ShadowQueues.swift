import NIOConcurrencyHelpers

/// One shadow queue per model name, made when the name's first sample is offered: a busy model
/// fills and drops from its own queue only, and each window counts its own model's drops. The
/// shadow runner takes each new queue from `added`.
final class ShadowQueues: Sendable {
    let capacity: Int
    /// Every queue made, in the order made, for the runner to drain.
    let added: AsyncStream<(modelName: String, queue: ShadowQueue)>
    private let announce: AsyncStream<(modelName: String, queue: ShadowQueue)>.Continuation
    private let queues = NIOLockedValueBox<(byName: [String: ShadowQueue], closed: Bool)>(([:], false))

    init(capacity: Int) {
        self.capacity = capacity
        (added, announce) = AsyncStream.makeStream(of: (modelName: String, queue: ShadowQueue).self)
    }

    /// The queue of `modelName`, made (and announced) on first use; once closed, a closed one.
    func queue(for modelName: String) -> ShadowQueue {
        queues.withLockedValue { queues in
            if let queue = queues.byName[modelName] { return queue }
            let queue = ShadowQueue(capacity: capacity)
            if queues.closed {
                queue.close()
                return queue
            }
            queues.byName[modelName] = queue
            announce.yield((modelName, queue))
            return queue
        }
    }

    /// A clock tick to every queue, so each model's quiet window is sealed on time.
    func tick() {
        for queue in queues.withLockedValue({ Array($0.byName.values) }) { queue.tick() }
    }

    /// Ends every queue and `added`, for a shutdown.
    func close() {
        let all = queues.withLockedValue { queues in
            queues.closed = true
            return Array(queues.byName.values)
        }
        for queue in all { queue.close() }
        announce.finish()
    }

    var isClosed: Bool { queues.withLockedValue { $0.closed } }
}
