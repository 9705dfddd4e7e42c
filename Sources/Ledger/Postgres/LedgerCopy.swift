import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO

/// `quantfleet ledger copy`: moves a SQLite ledger into an empty PostgreSQL one in one transaction
/// (COPY FROM STDIN, table by table in the order their references need), then checks that every
/// table holds as many rows on both sides and that the windows and running totals add up the same.
public enum LedgerCopy {
    public struct Report: Sendable {
        /// Rows per table, in copy order.
        public var rows: [(table: String, count: Int)]
        /// The sums compared on both sides, each "table.sum=value".
        public var sums: [String]
    }

    /// Every table of the ledger, parents first. The windows and their class rows are read in
    /// ranges of ingest order; the other tables are small beside them and are read whole.
    static let tables: [(name: String, inIngestOrder: Bool)] = [
        ("models", false), ("rollouts", false), ("assignments", false), ("agents", false), ("rollout_plans", false),
        ("stage_members", false), ("windows", true), ("window_classes", true), ("rolled_sequences", false),
        ("rollup_checkpoints", false), ("decisions", false),
        ("rollout_events", false), ("serving_changes", false), ("stage_totals", false), ("slice_totals", false),
        ("agent_events", false), ("assignment_versions", false),
    ]

    /// Identity columns, whose sequences must continue after the copied ids.
    static let identities = [("decisions", "id"), ("rollout_events", "id"), ("serving_changes", "id"),
                             ("agent_events", "id"), ("assignment_versions", "version")]

    /// Sums that must agree: what the windows hold and what the running totals folded.
    static let sums = [("windows", "count"), ("windows", "labelled"), ("windows", "top1_agreements"),
                       ("stage_totals", "samples"), ("stage_totals", "disagreements"), ("slice_totals", "samples")]

    static let ingestOrderRange = 20_000

    public static func copy(from path: String, to location: PostgresLocation, logger: Logger = Logger(label: "quantfleet.ledger")) async throws -> Report {
        let source = try Ledger.openReadOnly(path: path)
        let connector = PostgresConnector(location: location, logger: logger)
        try connector.migrate()
        return try await connector.withConnection { connection in
            try await copyTables(source, into: connection, location: location, logger: logger)
            return try await verify(source, against: connection, location: location, logger: logger)
        }
    }

    private static func copyTables(_ source: LedgerReader, into connection: PostgresConnection, location: PostgresLocation, logger: Logger) async throws {
        try await connection.inTransaction(logger: logger) {
            // The SQLite ledger's timestamps are UTC text without a zone.
            try await connection.query("SET LOCAL TIME ZONE 'UTC'", logger: logger)
            for (table, _) in tables {
                let count = try await count(table, on: connection, logger: logger)
                guard count == 0 else {
                    throw LedgerError.copyFailed(to: "\(location)", reason: "the PostgreSQL ledger is not empty: \(table) has \(count) rows")
                }
            }
            for (table, inIngestOrder) in tables {
                let columns = try source.store.read { db in try db.fetchTable(sql: "SELECT * FROM \(table) LIMIT 0").columns }
                let selectAll = "SELECT \(columns.joined(separator: ", ")) FROM \(table)"
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    if inIngestOrder {
                        let last = try source.store.read { db in try Int.fetchOne(db, sql: "SELECT MAX(ingest_order) FROM \(table)") } ?? 0
                        for start in stride(from: 0, to: last, by: ingestOrderRange) {
                            let chunk = try source.store.read { db in
                                try copyText(db, sql: selectAll + " WHERE ingest_order > ? AND ingest_order <= ?",
                                             arguments: [start, start + ingestOrderRange])
                            }
                            try await writer.write(ByteBuffer(string: chunk))
                        }
                    } else {
                        try await writer.write(ByteBuffer(string: try source.store.read { db in try copyText(db, sql: selectAll) }))
                    }
                }
            }
            for (table, column) in identities {
                try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), COALESCE(MAX(\(column)), 1), MAX(\(column)) IS NOT NULL)
                    FROM \(table)
                    """), logger: logger)
            }
        }
    }

    /// The rows of `sql` in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
    private static func copyText(_ db: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> String {
        var text = ""
        for row in try db.fetchTable(sql: sql, arguments: arguments).rows {
            text += row.map(copyField).joined(separator: "\t")
            text += "\n"
        }
        return text
    }

    private static func copyField(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "\\N"
        case .int64(let integer): return String(integer)
        case .double(let double): return String(double)
        case .string(let string):
            return string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        // bytea's hex input, its backslash escaped for COPY.
        case .blob(let data): return "\\\\x" + QueryResult.hex(data)
        }
    }

    private static func verify(_ source: LedgerReader, against connection: PostgresConnection, location: PostgresLocation, logger: Logger) async throws -> Report {
        var report = Report(rows: [], sums: [])
        var differences: [String] = []
        for (table, _) in tables {
            let copied = try await count(table, on: connection, logger: logger)
            let original = try source.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") } ?? 0
            if copied != original { differences.append("\(table): \(original) rows in SQLite, \(copied) in PostgreSQL") }
            report.rows.append((table, copied))
        }
        for (table, column) in sums {
            let original = try source.store.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(\(column)), 0) FROM \(table)") } ?? 0
            var copied: Int64 = 0
            for try await sum in try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT COALESCE(SUM(\(column)), 0)::bigint FROM \(table)"), logger: logger).decode(Int64.self) {
                copied = sum
            }
            if copied != original { differences.append("SUM(\(table).\(column)): \(original) in SQLite, \(copied) in PostgreSQL") }
            report.sums.append("\(table).\(column)=\(copied)")
        }
        guard differences.isEmpty else {
            throw LedgerError.copyFailed(to: "\(location)", reason: "the copy differs: " + differences.joined(separator: "; "))
        }
        return report
    }

    private static func count(_ table: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count = 0
        for try await rows in try await connection.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), logger: logger).decode(Int.self) {
            count = rows
        }
        return count
    }
}
