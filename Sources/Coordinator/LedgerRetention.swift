import DaemonSupport
import Dispatch
import Foundation
import Ledger
import Logging
import ServiceLifecycle

/// `ledger-retention-days`: every `interval`, rolls up the windows ingested more than that many
/// days ago (`Ledger.rollUp`). A rollup's transactions take turns with ingest's, on a thread of
/// their own, so ingest waits for one at a time and the ledger thread never waits for a whole run.
struct LedgerRetention: Service {
    let ledger: Ledger
    let days: Int
    let interval: Duration
    let metrics: CoordinatorMetrics
    let logger: Logger

    func run() async throws {
        await repeatUntilShutdown(every: interval) { [self] in await rollUp(now: Date()) }
    }

    func rollUp(now: Date) async {
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        do {
            let report = try await withCheckedThrowingContinuation { (done: CheckedContinuation<RollupReport, any Error>) in
                DispatchQueue.global(qos: .utility).async { [ledger] in
                    done.resume(with: Result { try ledger.rollUp(windowsIngestedBefore: cutoff) })
                }
            }
            metrics.windowsRolledUp.increment(by: Int64(report.windowsRolledUp))
            guard report.windowsRolledUp > 0 else { return }
            logger.notice("rolled up old windows", metadata: [
                "windows": "\(report.windowsRolledUp)", "rows": "\(report.rowsWritten)", "before": "\(cutoff)",
                "pages_freed": "\(report.pagesFreed.map(String.init) ?? "n/a")",
            ])
        } catch {
            logger.error("ledger rollup failed; trying again at the next interval", metadata: ["error": "\(error)"])
        }
    }
}
