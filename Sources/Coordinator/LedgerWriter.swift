import DaemonSupport
import Foundation
import Ledger
import Logging
import Prometheus

/// The coordinator's ledger writes, on the ledger thread. Windows and agents' Hellos are committed
/// in batches (group commit), one transaction per batch and kind: a request waits for the batch
/// being committed, then goes into the next with every request of its kind that arrived meanwhile,
/// so batches grow with the load and a lone request waits for nothing. A reconnecting fleet of
/// thousands then costs a few transactions (each a WAL sync), not one per agent. Each caller returns
/// only after its transaction committed, so an agent is acked only for stored windows; a resend
/// after a lost ack is a duplicate, recognised by its sequence.
///
/// Commits start at most once per `minimumCommitInterval`. Under load a batch then gathers what
/// arrives in that interval instead of the one or two windows that came during the last commit: at
/// 10,000 agents and 1,000 windows/s, uncapped batches averaged 1.4 windows, and writing each
/// batch's totals and WAL frames was most of the coordinator's ledger work. A request that finds the
/// writer idle for longer than the interval still waits for nothing.
actor LedgerWriter {
    let ledger: Ledger
    private let controller: RolloutController
    private let maximumBatch: Int
    private let minimumCommitInterval: Duration
    private var lastCommitStarted = ContinuousClock.now - .seconds(3600)
    private let metrics: CoordinatorMetrics
    private let reachability: LedgerReachability
    private let logger: Logger
    private let executor: LedgerExecutor
    private var windows = PendingWrites<WindowRecord, IngestResult>()
    private var hellos = PendingWrites<AgentHello, Void>()
    private var commitScheduled = false

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(
        ledger: Ledger, controller: RolloutController, maximumBatch: Int = 1_000, minimumCommitInterval: Duration = .zero,
        metrics: CoordinatorMetrics, reachability: LedgerReachability, logger: Logger
    ) {
        precondition(maximumBatch >= 1, "a batch holds at least one request")
        precondition(minimumCommitInterval >= .zero, "commits cannot start before the previous one")
        self.ledger = ledger
        self.controller = controller
        self.maximumBatch = maximumBatch
        self.minimumCommitInterval = minimumCommitInterval
        self.metrics = metrics
        self.reachability = reachability
        self.logger = logger
        self.executor = controller.executor
    }

    /// Stores the window (or recognises it as stored before) and returns once that is committed.
    func ingest(_ window: WindowRecord) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { stored in
            windows.append(window, stored)
            scheduleCommit()
        }
    }

    /// Records an agent's Hello and returns once that is committed.
    func record(_ hello: AgentHello) async throws {
        try await withCheckedThrowingContinuation { recorded in
            hellos.append(hello, recorded)
            scheduleCommit()
        }
    }

    /// A write other than a window or a Hello (heartbeats, reports), on the ledger thread.
    func perform<Value: Sendable>(_ write: @Sendable (Ledger) throws -> Value) throws -> Value {
        try write(ledger)
    }

    private func scheduleCommit() {
        guard !commitScheduled else { return }
        commitScheduled = true
        // Enqueued behind the requests already waiting on this executor, so they join the batch.
        Task { await commitWaiting() }
    }

    private func commitWaiting() async {
        let wait = lastCommitStarted + minimumCommitInterval - .now
        if wait > .zero {
            // Requests keep joining the batch meanwhile; `commitScheduled` holds off another commit.
            try? await Task.sleep(for: wait)
        }
        lastCommitStarted = .now
        commitScheduled = false
        // Hellos first: a window's device class is read from its agent's row.
        let helloBatch = hellos.take(maximumBatch)
        let windowBatch = windows.take(maximumBatch)
        if !hellos.isEmpty || !windows.isEmpty { scheduleCommit() }
        let ledger = self.ledger
        if !helloBatch.isEmpty {
            let results = commit(helloBatch.items, counted: metrics.helloBatches) { hellos in
                try ledger.recordHellos(hellos)
                return hellos.map { _ in () }
            }
            helloBatch.answer(results)
        }
        guard !windowBatch.isEmpty else { return }
        let results = commit(windowBatch.items, counted: metrics.windowBatches) { windows in
            try ledger.ingest(windows, beforeCommit: CrashPoint.ledgerCommit.reach)
        }
        windowBatch.answer(results)
        var stored: [String: Int] = [:]
        for (window, result) in zip(windowBatch.items, results) {
            if case .success(.stored) = result { stored[window.assignmentID, default: 0] += 1 }
        }
        if !stored.isEmpty { await controller.windowsStored(stored) }
    }

    /// One transaction (`write`) for the batch; if it fails (one request is inconsistent, e.g. a
    /// window names an unknown assignment), each request again in its own, so only the bad one fails.
    /// `counted` counts the transactions that committed.
    private func commit<Request, Output>(
        _ batch: [Request], counted: Counter, with write: ([Request]) throws -> [Output]
    ) -> [Result<Output, any Error>] {
        // Out of reach, each write would wait out its timeout in turn; they fail at once until the
        // controller-term claim reaches the ledger again.
        guard reachability.isReachable else {
            return batch.map { _ in .failure(LedgerUnreachable(description: "the ledger is out of reach; this coordinator acks nothing")) }
        }
        do {
            let results = try write(batch)
            counted.increment()
            return results.map { .success($0) }
        } catch {
            reachability.failed(error)
            guard batch.count > 1, !(error is LedgerUnreachable) else { return batch.map { _ in .failure(error) } }
            logger.notice("a batch of ledger writes failed; committing them one by one", metadata: [
                "requests": "\(batch.count)", "kind": "\(Request.self)", "error": "\(error)",
            ])
            return batch.map { request in
                Result {
                    let result = try write([request])[0]
                    counted.increment()
                    return result
                }
            }
        }
    }
}
