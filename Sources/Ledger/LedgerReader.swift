import Foundation
import GRDB

/// A read-only view of a ledger for engineers and the CLI. The connection is opened read-only, so
/// SQLite itself refuses any write, whatever SQL is passed to `query`.
public final class LedgerReader: Sendable {
    public let path: String
    private let database: DatabaseQueue

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw LedgerError.missingFile(path: path) }
        var configuration = Configuration()
        configuration.readonly = true
        // The coordinator may be checkpointing the WAL; wait for it instead of failing the query.
        configuration.busyMode = .timeout(5)
        self.path = path
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            guard try database.read(LedgerSchema.migrator.hasCompletedMigrations) else {
                throw LedgerError.notALedger(path: path)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw LedgerError.notALedger(path: path)
        }
    }

    /// Runs one SQL statement and renders every value as text.
    public func query(_ sql: String) throws -> QueryResult {
        do {
            return try database.read { db in
                let statement = try db.makeStatement(sql: sql)
                let rows = try Row.fetchAll(statement).map { row in Array(row.databaseValues.map(Self.text)) }
                return QueryResult(columns: statement.columnNames, rows: rows)
            }
        } catch let error as DatabaseError {
            throw LedgerError.queryFailed(sql: sql, reason: error.message ?? "\(error.resultCode)")
        }
    }

    public func rollouts() throws -> [RolloutRecord] {
        try database.read(LedgerQueries.rollouts)
    }

    public func latestDecision(forRollout id: String) throws -> DecisionRecord? {
        try database.read { db in try LedgerQueries.latestDecision(db, rolloutID: id) }
    }

    /// Windows and paired samples per agent for one rollout, ordered by agent id.
    public func windowCounts(forRollout id: String) throws -> [(agentID: String, windows: Int, samples: Int)] {
        try database.read { db in try LedgerQueries.windowCounts(db, rolloutID: id) }
    }

    private static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let integer): return String(integer)
        case .double(let double): return String(double)
        case .string(let string): return string
        case .blob(let data): return "x'" + data.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }
}
