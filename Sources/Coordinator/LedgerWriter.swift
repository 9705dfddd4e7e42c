import Foundation
import Ledger
import Logging

/// The coordinator's ledger writes, on the ledger thread. Windows are committed in batches, one
/// transaction per batch: a window waits for the batch being committed, then goes into the next with
/// every window that arrived meanwhile, so batches grow with the load and a lone window waits for
/// nothing. Each caller returns only after its window's transaction committed, so an agent is acked
/// only for stored windows; a resend after a lost ack is a duplicate, recognised by its sequence.
actor LedgerWriter {
    let ledger: Ledger
    private let controller: RolloutController
    private let maximumBatch: Int
    private let metrics: CoordinatorMetrics
    private let logger: Logger
    private let executor: LedgerExecutor
    private var waiting: [(window: WindowRecord, stored: CheckedContinuation<IngestResult, any Error>)] = []
    private var commitScheduled = false

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(ledger: Ledger, controller: RolloutController, maximumBatch: Int = 1_000, metrics: CoordinatorMetrics, logger: Logger) {
        precondition(maximumBatch >= 1, "a batch holds at least one window")
        self.ledger = ledger
        self.controller = controller
        self.maximumBatch = maximumBatch
        self.metrics = metrics
        self.logger = logger
        self.executor = controller.executor
    }

    /// Stores the window (or recognises it as stored before) and returns once that is committed.
    func ingest(_ window: WindowRecord) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { stored in
            waiting.append((window, stored))
            scheduleCommit()
        }
    }

    /// A write other than a window (an agent's Hello, heartbeats, reports), on the ledger thread.
    func perform<Value: Sendable>(_ write: @Sendable (Ledger) throws -> Value) throws -> Value {
        try write(ledger)
    }

    private func scheduleCommit() {
        guard !commitScheduled else { return }
        commitScheduled = true
        // Enqueued behind the ingests already waiting on this executor, so they join the batch.
        Task { await commitWaiting() }
    }

    private func commitWaiting() async {
        commitScheduled = false
        let batch = Array(waiting.prefix(maximumBatch))
        waiting.removeFirst(batch.count)
        if !waiting.isEmpty { scheduleCommit() }
        guard !batch.isEmpty else { return }
        let results = commit(batch.map(\.window))
        var stored: [String: Int] = [:]
        for ((window, continuation), result) in zip(batch, results) {
            continuation.resume(with: result)
            if case .success(.stored) = result { stored[window.assignmentID, default: 0] += 1 }
        }
        if !stored.isEmpty { await controller.windowsStored(stored) }
    }

    /// One transaction for the batch; if it fails (one window is inconsistent or names an unknown
    /// assignment), each window again in its own, so only the bad window fails.
    private func commit(_ windows: [WindowRecord]) -> [Result<IngestResult, any Error>] {
        do {
            let results = try ledger.ingest(windows)
            metrics.windowBatches.increment()
            return results.map { .success($0) }
        } catch {
            guard windows.count > 1 else { return [.failure(error)] }
            logger.notice("a batch of windows failed; storing them one by one", metadata: [
                "windows": "\(windows.count)", "error": "\(error)",
            ])
            return windows.map { window in
                Result {
                    let result = try ledger.ingest(window)
                    metrics.windowBatches.increment()
                    return result
                }
            }
        }
    }
}
