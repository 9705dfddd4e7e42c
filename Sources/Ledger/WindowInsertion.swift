import Foundation
import GRDB
import ShadowEval

/// The hot path of ingest: cached statements, reused for every window. Each stored window gets the
/// next ingest order and its agent's device class, and is appended to its stage's running totals,
/// which are written once per batch for each stage it touched, in the same transaction: the totals
/// always equal the stored windows. The windows' class rows are written together at the batch's end.
///
/// The ledger keeps one between batches (`resuming`), so a batch of a few windows neither reads back
/// the totals nor looks up agents and assignments it has seen: at 10,000 agents and 1,000 windows/s
/// the writer commits batches of a handful of windows, and reading and decoding each touched stage
/// and slice row again per batch was most of the ingest's cost.
struct WindowInsertion: Sendable {
    private static let sql = """
        INSERT INTO windows (
            agent_id, assignment_id, sequence, started_at_ms, ended_at_ms, count, top1_agreements,
            kl_divergence_sum, max_abs_diff, labelled, reference_correct, candidate_correct,
            reference_only_correct, candidate_only_correct, reference_latency_us_sum,
            candidate_latency_us_sum, shadow_drops, kernel_path, ingested_at,
            reference_memory_bytes, candidate_memory_bytes, floor_samples, floor_agreements,
            margin_flips, top5_shared_classes, neighbour_samples, neighbour_agreements, sketches,
            ingest_order, device_class, windows_merged)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (assignment_id, sequence, agent_id) DO NOTHING
        """
    /// Class rows in one statement per `classRowsPerStatement`: on PostgreSQL each statement is a
    /// round trip. One text per number of rows, so SQLite caches at most that many statements.
    private static func classSQL(rows: Int) -> String {
        """
        INSERT INTO window_classes (
            ingest_order, class, samples, agreements, both_right, reference_only_right, candidate_only_right, both_wrong,
            windows_merged)
        VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
        """
    }

    /// 256 rows of 9 values: within SQLite's and PostgreSQL's limits on a statement's parameters.
    static let classRowsPerStatement = 256

    /// How many stages' folds are kept between batches; beyond it, those the batch did not touch are
    /// dropped (and read back from their rows when a window touches them again).
    static let maximumKeptStages = 64
    /// How many agents' device classes are kept; beyond it they are all forgotten and looked up again.
    static let maximumKeptAgents = 100_000

    private var lastIngestOrder: Int64
    /// Per agent, its device-class label (nil: none, or the agent never said Hello).
    private var deviceClasses: [String: String?] = [:]
    private var stages: [String: StageKey] = [:]
    private var folds: [StageKey: RunningTotalsStore.Fold] = [:]
    /// The stages this batch appended to: their rows are written at its end.
    private var touchedStages: Set<StageKey> = []
    /// The batch's stored windows whose class rows are still to be written (`finish`).
    private var pendingClasses: [(window: WindowRecord, ingestOrder: Int64)] = []
    private let keptStages: Int

    private init(lastIngestOrder: Int64, keptStages: Int) {
        self.lastIngestOrder = lastIngestOrder
        self.keptStages = keptStages
    }

    /// The insertion kept from the previous batch if it still runs through the ledger's last window,
    /// else a new one that reads what it needs as it goes. A kept insertion is stale when its batch
    /// rolled back after it was kept (its windows are not stored), or when another connection stored
    /// windows; either way the last ingest order differs.
    static func resuming(_ previous: WindowInsertion?, _ db: any LedgerSession, keptStages: Int) throws -> WindowInsertion {
        let stored = try Int64.fetchOne(db, sql: "SELECT MAX(ingest_order) FROM windows") ?? 0
        if let previous, previous.lastIngestOrder == stored { return previous }
        return WindowInsertion(lastIngestOrder: stored, keptStages: keptStages)
    }

    /// Forgets the device classes of agents whose labels may have changed.
    mutating func forgetDeviceClasses(of agentIDs: some Sequence<String>) {
        for id in agentIDs { deviceClasses[id] = nil }
    }

    /// Stores one window unless its (agent, assignment, sequence) is already stored.
    mutating func insert(_ window: WindowRecord, ingestedAt: Date, into db: any LedgerSession) throws -> IngestResult {
        let deviceClass = try self.deviceClass(of: window.agentID, db)
        guard try Self.insertRow(window, ingestOrder: lastIngestOrder + 1, deviceClass: deviceClass, ingestedAt: ingestedAt, db)
        else { return .duplicate }
        lastIngestOrder += 1
        pendingClasses.append((window, lastIngestOrder))
        let stage = try self.stage(of: window.assignmentID, db)
        if folds[stage] == nil { folds[stage] = try RunningTotalsStore.Fold(stage: stage, db) }
        try folds[stage]!.append(window.runningTotals(deviceClass: deviceClass), ingestOrder: lastIngestOrder, db)
        touchedStages.insert(stage)
        return .stored
    }

    /// Writes the class rows of the batch's windows, then the totals of the stages it touched over
    /// the stored ones; call once, after the batch's last insert.
    mutating func finish(_ db: any LedgerSession) throws {
        try Self.insertClasses(of: pendingClasses, into: db)
        pendingClasses = []
        for stage in touchedStages {
            try folds[stage]!.write(db)
        }
        if folds.count > keptStages { folds = folds.filter { touchedStages.contains($0.key) } }
        if deviceClasses.count > Self.maximumKeptAgents { deviceClasses = [:] }
        touchedStages = []
    }

    private mutating func deviceClass(of agentID: String, _ db: any LedgerSession) throws -> String? {
        if let known = deviceClasses[agentID] { return known }
        let label = try String.fetchOne(
            db, sql: "SELECT \(db.dialect.jsonText("labels", key: "device-class")) FROM agents WHERE id = ?", arguments: [agentID])
        deviceClasses[agentID] = .some(label)  // nil too: the agent has no device class
        return label
    }

    private mutating func stage(of assignmentID: String, _ db: any LedgerSession) throws -> StageKey {
        if let known = stages[assignmentID] { return known }
        // The window's insert passed its foreign key, so the assignment exists.
        // An assignment's rollout and stage never change, so they are kept for good.
        let row = try Row.fetchOne(db, sql: "SELECT rollout_id, stage FROM assignments WHERE id = ?", arguments: [assignmentID])!
        let stage = StageKey(rolloutID: row["rollout_id"], stage: row["stage"])
        stages[assignmentID] = stage
        return stage
    }

    /// Inserts the window's row; false when the window was already stored.
    private static func insertRow(
        _ window: WindowRecord, ingestOrder: Int64, deviceClass: String?, ingestedAt: Date, _ db: any LedgerSession
    ) throws -> Bool {
        let summary = window.summary
        do {
            return try db.execute(sql: sql, arguments: [
                window.agentID, window.assignmentID, window.sequence, summary.startedAtMillis,
                summary.endedAtMillis, summary.count, summary.top1Agreements, summary.klDivergenceSum,
                summary.maxAbsDiff, summary.labelled, summary.referenceCorrect, summary.candidateCorrect,
                summary.referenceOnlyCorrect, summary.candidateOnlyCorrect, summary.referenceLatencyMicrosSum,
                summary.candidateLatencyMicrosSum, summary.shadowDrops, window.kernelPath, ingestedAt,
                window.referenceMemoryBytes, window.candidateMemoryBytes, window.floor.samples, window.floor.agreements,
                window.measures.marginFlips, window.measures.topFiveSharedClasses, window.measures.neighbours.samples,
                window.measures.neighbours.agreements, try window.measures.sketches.map(SketchCoding.encode),
                ingestOrder, deviceClass, window.windowsCounted,
            ]) > 0
        } catch {
            switch ConstraintViolation(error) {
            case let violation? where violation.kind == .foreignKey:
                throw LedgerError.unknownAssignment(id: window.assignmentID, agentID: window.agentID, sequence: window.sequence)
            case let violation? where violation.kind == .check:
                throw LedgerError.invalidWindow(
                    agentID: window.agentID, assignmentID: window.assignmentID, sequence: window.sequence, reason: violation.message)
            default:
                throw error
            }
        }
    }

    private static func insertClasses(of windows: [(window: WindowRecord, ingestOrder: Int64)], into db: any LedgerSession) throws {
        var rows: [[(any DatabaseValueConvertible)?]] = []
        for (window, ingestOrder) in windows {
            for index in window.classIndices {
                let agreement = window.agreementByClass[index] ?? AgreementCounts()
                let labels = window.labelsByClass[index] ?? PairedOutcomes()
                rows.append([
                    ingestOrder, index, agreement.samples, agreement.agreements,
                    labels.bothRight, labels.onlyReferenceRight, labels.onlyCandidateRight, labels.bothWrong, window.windowsCounted,
                ])
            }
        }
        do {
            for start in stride(from: 0, to: rows.count, by: classRowsPerStatement) {
                let chunk = rows[start..<min(rows.count, start + classRowsPerStatement)]
                try db.execute(sql: classSQL(rows: chunk.count), arguments: chunk.flatMap { $0 })
            }
        } catch {
            guard let violation = ConstraintViolation(error), violation.kind == .check else { throw error }
            // A statement holds many windows' classes: name the first whose counts cannot be.
            for (window, _) in windows {
                for index in window.classIndices where hasImpossibleCounts(window, class: index) {
                    throw LedgerError.invalidWindow(
                        agentID: window.agentID, assignmentID: window.assignmentID, sequence: window.sequence,
                        reason: "class \(index): " + violation.message)
                }
            }
            throw LedgerError.invalidWindow(
                agentID: windows[0].window.agentID, assignmentID: windows[0].window.assignmentID, sequence: windows[0].window.sequence,
                reason: "the class rows of this batch: " + violation.message)
        }
    }

    private static func hasImpossibleCounts(_ window: WindowRecord, class index: Int) -> Bool {
        let agreement = window.agreementByClass[index] ?? AgreementCounts()
        let labels = window.labelsByClass[index] ?? PairedOutcomes()
        return agreement.agreements > agreement.samples || agreement.agreements < 0
            || [labels.bothRight, labels.onlyReferenceRight, labels.onlyCandidateRight, labels.bothWrong].contains { $0 < 0 }
    }
}
