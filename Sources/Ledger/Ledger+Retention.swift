import Foundation
import GRDB

/// What a rollup did (`Ledger.rollUp`).
public struct RollupReport: Sendable, Equatable, CustomStringConvertible {
    /// Windows merged into rolled-up rows, and the rows that added to the ledger (one per agent and
    /// day: a group an earlier rollup began is merged into its row).
    public var windowsRolledUp = 0
    public var rowsWritten = 0
    /// Transactions committed: ingest waits for at most one at a time.
    public var transactions = 0
    /// Pages SQLite gave back to the file system; nil where the ledger does not (PostgreSQL, whose
    /// autovacuum reuses the space, or a SQLite file created before v14 without incremental vacuum).
    public var pagesFreed: Int?

    public var description: String {
        "\(windowsRolledUp) windows rolled up into \(rowsWritten) rows in \(transactions) transactions"
            + (pagesFreed.map { "; \($0) pages freed" } ?? "")
    }
}

/// Retention: windows older than an age are rolled up (`WindowRollup`), so the ledger grows with
/// the fleet's agents and days, not with its windows; every decision, the running totals and
/// `ledger verify` read as before.
extension Ledger {
    /// Rolls up every window ingested before `cutoff`, the oldest first, at most
    /// `windowsPerTransaction` in one transaction, then (SQLite) gives the freed pages back.
    public func rollUp(windowsIngestedBefore cutoff: Date, windowsPerTransaction: Int = 20_000) throws -> RollupReport {
        let boundary = try store.read { db in try WindowRollup.lastWindow(ingestedBefore: cutoff, db) }
        var report = RollupReport()
        while true {
            let done = try store.write { db in try WindowRollup.rollUpOldest(db, boundary: boundary, limit: windowsPerTransaction) }
            guard done.windows > 0 else { break }
            report.windowsRolledUp += done.windows
            report.rowsWritten += done.rows
            report.transactions += 1
        }
        report.pagesFreed = try store.write { db -> Int? in
            guard db.dialect == .sqlite, try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == Self.incrementalVacuum else { return nil }
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            try db.execute(sql: "PRAGMA incremental_vacuum")
            return free - (try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
        }
        return report
    }

    /// SQLite's `auto_vacuum` mode in which `PRAGMA incremental_vacuum` frees pages.
    static let incrementalVacuum = 2
}
