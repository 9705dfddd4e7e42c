import Foundation
import GRDB
import ShadowEval
import Logging
import NIOConcurrencyHelpers

/// The coordinator's ledger: models, rollouts, agents, shadow windows and decisions, in a SQLite
/// file (one coordinator) or a PostgreSQL database (several; `PostgresStore`).
///
/// On SQLite, one `DatabasePool` in WAL mode, so readers (the dashboard, `sqlite3`, `quantfleet
/// ledger`) never block the writer and always see a consistent snapshot. Every write is one
/// transaction, and on either engine one writer runs at a time.
public final class Ledger: Sendable {
    /// The file, or the PostgreSQL server and database (without its password).
    public let path: String
    /// Internal so the extensions (`Ledger+Stages.swift`, ...) share it.
    let store: any LedgerStore

    /// Ingest's state between batches, touched only inside write transactions (which run one at a
    /// time): taken out when a batch starts and kept again when it has written its totals, so a batch
    /// that fails leaves nothing behind.
    private let keptInsertion = NIOLockedValueBox<WindowInsertion?>(nil)

    /// The fencing token of the last controller term this ledger's owner took
    /// (`acquireControllerTerm`): its decisions and rollout events carry it, and the database
    /// refuses them once the term is over.
    let heldToken = NIOLockedValueBox<Int64?>(nil)

    /// The token fenced writes carry: the held term's, nil before any.
    var fencingToken: Int64? { heldToken.withLockedValue { $0 } }

    /// How long a coordinator waits for PostgreSQL to answer one statement before it gives the
    /// connection up: its agents' sessions then end, and they move to another coordinator.
    public static let postgresStatementTimeout: Duration = .seconds(10)

    /// The write connection's page cache, in KiB.
    static let writerCacheKiB = 64 * 1024

    /// How many stages' running totals ingest keeps in memory between batches.
    private let keptStages: Int

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    public convenience init(path: String) throws {
        try self.init(path: path, keptStages: WindowInsertion.maximumKeptStages)
    }

    /// Opens the ledger `location` names, a file or `postgres://...`, and brings its schema up to date.
    public convenience init(location: LedgerLocation, logger: Logger = Logger(label: "quantfleet.ledger")) throws {
        switch location {
        case .file(let path):
            try self.init(path: path)
        case .postgres(let postgres):
            let connector = PostgresConnector(location: postgres, logger: logger)
            try connector.migrate()
            try self.init(
                store: PostgresStore(connector: connector, readOnly: false, statementTimeout: Self.postgresStatementTimeout),
                keptStages: WindowInsertion.maximumKeptStages)
        }
    }

    convenience init(path: String, keptStages: Int) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        // Another process may hold the write lock briefly (a second coordinator by mistake, a
        // checkpoint); wait rather than fail the ingest.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Windows from thousands of agents land all over the windows' indexes; SQLite's default
            // 2 MiB page cache then makes every batch read its pages back from the file. The writer
            // alone gets a larger cache; readers keep the default.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)") }
            // A new ledger gives the pages a rollup frees back to the file system (`rollUp`). On an
            // existing file this only records the wish, which a VACUUM would carry out.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA auto_vacuum = \(Self.incrementalVacuum)") }
        }
        let database = try DatabasePool(path: path, configuration: configuration)
        try database.read { try LedgerSchema.refuseNewer($0, path: path) }
        try LedgerSchema.migrator.migrate(database)
        try self.init(store: SQLiteStore(location: path, database: database), keptStages: keptStages)
    }

    init(store: any LedgerStore, keptStages: Int) throws {
        self.path = store.location
        self.store = store
        self.keptStages = keptStages
    }

    /// Opens an existing ledger for reading only; see `LedgerReader`.
    public static func openReadOnly(path: String) throws -> LedgerReader {
        try LedgerReader(path: path)
    }

    /// Opens an existing ledger, a file or `postgres://...`, for reading only.
    public static func openReadOnly(
        location: LedgerLocation, logger: Logger = Logger(label: "quantfleet.ledger")
    ) throws -> LedgerReader {
        switch location {
        case .file(let path): return try LedgerReader(path: path)
        case .postgres(let postgres): return try LedgerReader(postgres: postgres, logger: logger)
        }
    }

    /// Stores a model; registering the same bytes (same sha256) again changes nothing.
    /// Registers a model once; a model first registered unsigned gets the signature when it comes.
    public func registerModel(_ model: ModelRecord) throws {
        try store.write { db in
            try db.insert(model, ignoringConflicts: true)
            guard let manifest = model.manifest, let signature = model.signature else { return }
            try db.execute(
                sql: """
                    UPDATE models SET manifest = ?, signature = ?, manifest_version = ?, manifest_key_id = ?
                    WHERE sha256 = ? AND signature IS NULL
                    """,
                arguments: [manifest, signature, model.manifestVersion, model.manifestKeyID, model.sha256])
        }
    }

    /// The open rollout for (model, reference, candidate), created with its stage-0 assignment if
    /// there is none. An existing rollout keeps the settings it was created with.
    public func ensureRollout(
        modelName: String, referenceSHA256: String, candidateSHA256: String,
        samplingRate: Double, windowSize: Int, policyVersion: String
    ) throws -> RolloutRecord {
        guard samplingRate > 0 && samplingRate <= 1 else { throw LedgerError.invalidSamplingRate(samplingRate) }
        guard windowSize >= 1 else { throw LedgerError.invalidWindowSize(windowSize) }
        return try store.write { db in
            let existing = try RolloutRecord.fetchOne(
                db,
                sql: """
                    SELECT * FROM rollouts
                    WHERE model_name = ? AND reference_sha256 = ? AND candidate_sha256 = ? AND status = 'shadowing'
                    """,
                arguments: [modelName, referenceSHA256, candidateSHA256])
            if let existing { return existing }
            for sha256 in [referenceSHA256, candidateSHA256] where try !LedgerQueries.modelExists(db, sha256: sha256) {
                throw LedgerError.unknownModel(sha256: sha256)
            }
            let now = Date()
            let rollout = RolloutRecord(
                id: Self.makeIdentifier(prefix: "r"), modelName: modelName, referenceSHA256: referenceSHA256,
                candidateSHA256: candidateSHA256, samplingRate: samplingRate, windowSize: windowSize,
                policyVersion: policyVersion, status: .shadowing, outcome: nil, createdAt: now, decidedAt: nil)
            try db.insert(rollout)
            try db.insert(AssignmentRecord(id: Self.makeIdentifier(prefix: "a"), rolloutID: rollout.id, stage: 0, createdAt: now))
            // Read back rather than return `rollout`: stored dates keep milliseconds only, and the
            // caller must see the same record every later read returns.
            return try LedgerQueries.rollout(db, id: rollout.id)
        }
    }

    public func openRollouts() throws -> [RolloutRecord] {
        try store.read { db in
            try RolloutRecord.fetchAll(
                db, sql: "SELECT * FROM rollouts WHERE status = 'shadowing' ORDER BY created_at, id")
        }
    }

    /// The rollout's current assignment: the one of its latest stage.
    public func assignment(forRollout id: String) throws -> AssignmentRecord {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            guard
                let assignment = try AssignmentRecord.fetchOne(
                    db, sql: "SELECT * FROM assignments WHERE rollout_id = ? ORDER BY stage DESC LIMIT 1",
                    arguments: [id])
            else { throw LedgerError.unknownRollout(id: id) }
            return assignment
        }
    }

    /// Notes that an agent connected; its first sighting is kept, the rest (labels too) is updated.
    public func recordAgentSeen(
        id: String, kernelPath: String, agentVersion: String, labels: [String: String] = [:], at date: Date
    ) throws {
        try recordHellos([AgentHello(agentID: id, kernelPath: kernelPath, agentVersion: agentVersion, labels: labels, at: date)])
    }

    /// Notes that agents connected, in one transaction: all of them or, on an error, none.
    public func recordHellos(_ hellos: [AgentHello]) throws {
        try store.write { db in
            let upsert = """
                INSERT INTO agents (id, kernel_path, agent_version, first_seen_at, last_seen_at, labels)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    kernel_path = excluded.kernel_path,
                    agent_version = excluded.agent_version,
                    last_seen_at = excluded.last_seen_at,
                    labels = excluded.labels
                """
            for hello in hellos {
                try db.execute(sql: upsert, arguments: [
                    hello.agentID, hello.kernelPath, hello.agentVersion, hello.at, hello.at, try LabelCoding.encode(hello.labels),
                ])
            }
            // A Hello may change an agent's device class; a rollback only makes this forget more.
            keptInsertion.withLockedValue { $0?.forgetDeviceClasses(of: hellos.lazy.map(\.agentID)) }
        }
    }

    /// Stores one window unless the ledger already holds its (agent, assignment, sequence).
    public func ingest(_ window: WindowRecord) throws -> IngestResult {
        try ingest([window])[0]
    }

    /// Stores a batch of windows in one transaction: all of them or, on an error, none.
    /// `beforeCommit` runs inside the transaction once every row is written (a fault campaign's
    /// crash point).
    public func ingest(_ windows: [WindowRecord], beforeCommit: () -> Void = {}) throws -> [IngestResult] {
        let ingestedAt = Date()
        return try store.write { db in
            var insertion = try WindowInsertion.resuming(keptInsertion.withLockedValue { $0.take() }, db, keptStages: keptStages)
            let results = try windows.map { try insertion.insert($0, ingestedAt: ingestedAt, into: db) }
            try insertion.finish(db)
            beforeCommit()
            keptInsertion.withLockedValue { $0 = insertion }
            return results
        }
    }

    /// The running totals of all the rollout's windows, every stage included.
    public func evidence(forRollout id: String) throws -> EvidenceTotals {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try RunningTotalsStore.totals(db, rolloutID: id, stage: nil).overall
        }
    }

    /// Stores one evaluation. A final outcome also closes the rollout; a decided rollout accepts no
    /// further decisions.
    public func recordDecision(_ decision: Decision, slices: [SliceKey: Decision] = [:], rolloutID: String, at date: Date) throws {
        try store.write { db in
            let rollout = try LedgerQueries.rollout(db, id: rolloutID)
            if rollout.status == .decided {
                throw LedgerError.rolloutAlreadyDecided(id: rolloutID, outcome: rollout.outcome?.rawValue ?? "unknown")
            }
            try LedgerQueries.insert(
                decision, slices: slices, rolloutID: rolloutID, stage: nil, at: date, fencingToken: fencingToken, into: db)
            guard decision.outcome.isFinal else { return }
            try db.execute(
                sql: "UPDATE rollouts SET status = 'decided', outcome = ?, decided_at = ? WHERE id = ?",
                arguments: [decision.outcome.rawValue, date, rolloutID])
        }
    }

    /// The latest evaluation of each stage, first stage first.
    public func stageDecisions(forRollout id: String) throws -> [DecisionRecord] {
        try store.read { db in try LedgerQueries.stageDecisions(db, rolloutID: id) }
    }

    public func latestDecision(forRollout id: String) throws -> DecisionRecord? {
        try store.read { db in try LedgerQueries.latestDecision(db, rolloutID: id) }
    }

    /// "<prefix>-" and 12 random hex digits (48 bits): unique enough for rollouts and assignments.
    static func makeIdentifier(prefix: String) -> String {
        let digits = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
        return "\(prefix)-" + String(repeating: "0", count: 12 - digits.count) + digits
    }
}
