import Foundation
import GRDB
import Logging
import PostgresNIO
import ShadowEval

/// A read-only view of a ledger for engineers and the CLI. A SQLite file is opened read-only, so
/// SQLite itself refuses any write, whatever SQL is passed to `query`; on PostgreSQL every read is a
/// READ ONLY transaction (and the role may lack write grants: Deploy/postgres).
public final class LedgerReader: Sendable {
    /// The file, or the PostgreSQL server and database (without its password).
    public let path: String
    /// Internal so the totals check (`TotalsVerification.swift`) reads through the same connection.
    let store: any LedgerStore

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw LedgerError.missingFile(path: path) }
        var configuration = Configuration()
        configuration.readonly = true
        // The coordinator may be checkpointing the WAL; wait for it instead of failing the query.
        configuration.busyMode = .timeout(5)
        self.path = path
        do {
            let database = try DatabaseQueue(path: path, configuration: configuration)
            let migrator = LedgerSchema.migrator
            guard let applied = try database.read(migrator.completedMigrations).last else { throw LedgerError.notALedger(path: path) }
            try database.read { try LedgerSchema.refuseNewer($0, path: path) }
            // Read-only: an older ledger cannot be migrated here, and its tables lack what this version reads.
            guard try database.read(migrator.hasCompletedMigrations) else {
                throw LedgerError.olderSchema(path: path, schema: applied, needed: migrator.migrations.last!)
            }
            store = SQLiteStore(location: path, database: database)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw LedgerError.notALedger(path: path)
        }
    }

    init(postgres location: PostgresLocation, logger: Logger) throws {
        path = "\(location)"
        store = PostgresStore(connector: PostgresConnector(location: location, logger: logger), readOnly: true)
        let applied = try store.read { db in
            do {
                return try PostgresMigrator.appliedMigrations(db, location: path)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {  // undefined_table
                throw LedgerError.notALedger(path: path)
            }
        }
        let known = PostgresMigrator.known
        guard let last = known.last(where: applied.contains) else { throw LedgerError.notALedger(path: path) }
        guard applied.isSuperset(of: known) else { throw LedgerError.olderSchema(path: path, schema: last, needed: known.last!) }
    }

    /// What `ledger verify` (and a backup, of its copy) finds: first a file's pages, with SQLite's
    /// `PRAGMA integrity_check` (PostgreSQL checks its own as it reads them, with data checksums on);
    /// then, if they are sound, every stage's running totals against their windows.
    public func check() throws -> LedgerCheck {
        if store is SQLiteStore {
            let found = try query("PRAGMA integrity_check").rows.map { $0[0] }
            if found != ["ok"] { return .damagedPages(found) }
        }
        return .totals(try verifyRunningTotals())
    }

    /// Runs one SQL statement and renders every value as text: NULL as "NULL", flags as 0 and 1,
    /// timestamps as the SQLite ledger spells them (UTC), blobs as hex.
    public func query(_ sql: String) throws -> QueryResult {
        try store.read { db in
            do {
                let table = try db.fetchTable(sql: sql)
                return QueryResult(columns: table.columns, rows: table.rows.map { $0.map(Self.text) })
            } catch let error as DatabaseError {
                throw LedgerError.queryFailed(sql: sql, reason: error.message ?? "\(error.resultCode)")
            } catch let error as PSQLError {
                throw LedgerError.queryFailed(sql: sql, reason: error.serverInfo?[.message] ?? "\(error.code)")
            }
        }
    }

    public func rollouts() throws -> [RolloutRecord] {
        try store.read { db in try LedgerQueries.rollouts(db) }
    }

    public func latestDecision(forRollout id: String) throws -> DecisionRecord? {
        try store.read { db in try LedgerQueries.latestDecision(db, rolloutID: id) }
    }

    /// Windows and paired samples per agent for one rollout, ordered by agent id.
    public func windowCounts(forRollout id: String) throws -> [(agentID: String, windows: Int, samples: Int)] {
        try store.read { db in try LedgerQueries.windowCounts(db, rolloutID: id) }
    }

    private static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let integer): return String(integer)
        case .double(let double): return String(double)
        case .string(let string): return string
        case .blob(let data): return QueryResult.blobText(data)
        }
    }
}

/// One agent's evidence in one stage of a rollout: a row of the `stage_evidence` view.
public struct AgentStageEvidence: Sendable, Equatable {
    /// 0-based, as stored; a rollout without stages has its evidence in stage 0.
    public var stage: Int
    public var agentID: String
    /// The agent's labels from its last Hello (empty if the agent never said Hello).
    public var labels: [String: String]
    public var kernelPath: String
    public var windows: Int
    public var samples: Int
    /// Top-1 disagreement as a fraction; nil without samples.
    public var disagreementRate: Double?
    public var labelled: Int
    public var referenceAccuracy: Double?
    public var candidateAccuracy: Double?
    /// Mean KL divergence per sample; nil when a window saw a NaN output.
    public var meanKL: Double?
}

/// Reads for the rollout report (`quantfleet rollout report`): a rollout's whole history, not just
/// its latest decision.
extension LedgerReader {
    public func rollout(id: String) throws -> RolloutRecord {
        try store.read { db in try LedgerQueries.rollout(db, id: id) }
    }

    public func model(sha256: String) throws -> ModelRecord {
        try store.read { db in try LedgerQueries.model(db, sha256: sha256) }
    }

    /// The measures of all the rollout's windows merged (from the running totals), with the paired
    /// samples they cover.
    public func measures(forRollout id: String) throws -> (samples: Int, measures: WindowMeasures) {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            let totals = try RunningTotalsStore.totals(db, rolloutID: id, stage: nil)
            return (totals.overall.samples, totals.measures)
        }
    }

    /// The latest evaluation of each stage, first stage first.
    public func stageDecisions(forRollout id: String) throws -> [DecisionRecord] {
        try store.read { db in try LedgerQueries.stageDecisions(db, rolloutID: id) }
    }

    /// Every evaluation of the rollout, oldest first, so bounds can be drawn as they narrowed.
    public func decisions(forRollout id: String) throws -> [DecisionRecord] {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try LedgerQueries.decisions(db, rolloutID: id)
        }
    }

    /// The staged part of the rollout; nil for a rollout opened from the coordinator's configuration.
    public func plan(forRollout id: String) throws -> RolloutPlan? {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try LedgerQueries.plan(db, rolloutID: id)
        }
    }

    /// Who did what to the rollout and why, oldest first.
    public func events(forRollout id: String) throws -> [RolloutEvent] {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try LedgerQueries.events(db, rolloutID: id)
        }
    }

    /// Evidence per stage, agent and kernel path (the `stage_evidence` view), by stage then agent.
    public func stageEvidence(forRollout id: String) throws -> [AgentStageEvidence] {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM stage_evidence WHERE rollout_id = ? ORDER BY stage, agent_id, kernel_path", arguments: [id]
            ).map { row in
                // An agent that sent windows but never said Hello has no labels row: the view's LEFT JOIN gives NULL.
                let labelsText: String? = row["labels"]
                return AgentStageEvidence(
                    stage: row["stage"], agentID: row["agent_id"],
                    labels: try labelsText.map { try LabelCoding.decode([String: String].self, from: $0, column: "agents.labels") } ?? [:],
                    kernelPath: row["kernel_path"], windows: row["windows"], samples: row["samples"],
                    disagreementRate: row["disagreement_rate"], labelled: row["labelled"],
                    referenceAccuracy: row["reference_accuracy"], candidateAccuracy: row["candidate_accuracy"],
                    meanKL: row["mean_kl"])
            }
        }
    }
}
