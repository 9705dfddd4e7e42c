/// Requests of one kind waiting for the ledger writer's next transaction, in arrival order, each
/// with the continuation its caller waits on.
struct PendingWrites<Request, Output: Sendable> {
    /// Requests taken for one transaction; `answer` resumes their callers.
    struct Batch {
        fileprivate var waiting: [(request: Request, done: CheckedContinuation<Output, any Error>)]

        var items: [Request] { waiting.map(\.request) }
        var isEmpty: Bool { waiting.isEmpty }

        /// Resumes each caller with its request's result, given in the batch's order.
        func answer(_ results: [Result<Output, any Error>]) {
            precondition(results.count == waiting.count, "one result per request")
            for (entry, result) in zip(waiting, results) { entry.done.resume(with: result) }
        }
    }

    private var waiting: [(request: Request, done: CheckedContinuation<Output, any Error>)] = []

    var isEmpty: Bool { waiting.isEmpty }

    mutating func append(_ request: Request, _ done: CheckedContinuation<Output, any Error>) {
        waiting.append((request, done))
    }

    /// The oldest requests, up to `maximum`.
    mutating func take(_ maximum: Int) -> Batch {
        let batch = Batch(waiting: Array(waiting.prefix(maximum)))
        waiting.removeFirst(batch.waiting.count)
        return batch
    }
}
