import Foundation

/// A thread of its own for the actors that write the ledger and evaluate the policy (`LedgerWriter`,
/// `RolloutController`): a transaction or an evaluation blocks for milliseconds, which must stall
/// neither NIO's event loops nor the cooperative pool that runs every agent's session. Jobs run one
/// at a time in the order they were enqueued. The thread ends when the last actor using it is gone.
final class LedgerExecutor: SerialExecutor {
    private let queue = JobQueue()
    /// Set once, never changed, and only compared by identity: safe to share.
    nonisolated(unsafe) private let thread: Thread

    init() {
        thread = Thread { [queue] in queue.runUntilClosed() }
        thread.start()
    }

    /// Whether the calling code runs on the ledger thread.
    var isCurrent: Bool { Thread.current === thread }

    /// Lets `assumeIsolated` and `preconditionIsolated` of the actors on this executor check the thread.
    func checkIsolated() {
        precondition(isCurrent, "expected to run on the ledger thread")
    }

    deinit {
        queue.close()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        queue.append(UnownedJob(job), on: asUnownedSerialExecutor())
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

/// The executor's jobs, handed from any thread to its one thread.
private final class JobQueue: @unchecked Sendable {
    // Every stored property is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [(UnownedJob, UnownedSerialExecutor)] = []
    private var closed = false

    func append(_ job: UnownedJob, on executor: UnownedSerialExecutor) {
        condition.lock()
        defer { condition.unlock() }
        precondition(!closed, "a job was enqueued on a ledger executor that no actor holds any more")
        jobs.append((job, executor))
        condition.signal()
    }

    func close() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    func runUntilClosed() {
        while true {
            condition.lock()
            while jobs.isEmpty && !closed { condition.wait() }
            let ready = jobs
            jobs.removeAll(keepingCapacity: true)
            let finished = closed && ready.isEmpty
            condition.unlock()
            if finished { return }
            for (job, executor) in ready { job.runSynchronously(on: executor) }
        }
    }
}
