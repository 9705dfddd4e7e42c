import Foundation
import GRDB
import ShadowEval

/// The hot path of ingest, one transaction's windows: one cached statement per connection, reused
/// for every window. Each stored window gets the next ingest order and its agent's device class, and
/// is appended to its stage's running totals, which are written once per stage at the end of the
/// batch, in the same transaction: the totals always equal the stored windows.
struct WindowInsertion {
    private static let sql = """
        INSERT INTO windows (
            agent_id, assignment_id, sequence, started_at_ms, ended_at_ms, count, top1_agreements,
            kl_divergence_sum, max_abs_diff, labelled, reference_correct, candidate_correct,
            reference_only_correct, candidate_only_correct, reference_latency_us_sum,
            candidate_latency_us_sum, shadow_drops, kernel_path, ingested_at,
            reference_memory_bytes, candidate_memory_bytes, floor_samples, floor_agreements,
            margin_flips, top5_shared_classes, neighbour_samples, neighbour_agreements, sketches,
            ingest_order, device_class)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (agent_id, assignment_id, sequence) DO NOTHING
        """
    private static let classSQL = """
        INSERT INTO window_classes (
            agent_id, assignment_id, sequence, class, samples, agreements,
            both_right, reference_only_right, candidate_only_right, both_wrong)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private var lastIngestOrder: Int64
    /// Per agent, its device-class label (nil: none, or the agent never said Hello).
    private var deviceClasses: [String: String?] = [:]
    private var stages: [String: StageKey] = [:]
    private var folds: [StageKey: RunningTotalsStore.Fold] = [:]

    init(_ db: Database) throws {
        lastIngestOrder = try Int64.fetchOne(db, sql: "SELECT MAX(ingest_order) FROM windows") ?? 0
    }

    /// Stores one window unless its (agent, assignment, sequence) is already stored.
    mutating func insert(_ window: WindowRecord, ingestedAt: Date, into db: Database) throws -> IngestResult {
        let deviceClass = try self.deviceClass(of: window.agentID, db)
        guard try Self.insertRow(window, ingestOrder: lastIngestOrder + 1, deviceClass: deviceClass, ingestedAt: ingestedAt, db)
        else { return .duplicate }
        lastIngestOrder += 1
        try Self.insertClasses(of: window, into: db)
        let stage = try self.stage(of: window.assignmentID, db)
        if folds[stage] == nil { folds[stage] = try RunningTotalsStore.Fold(stage: stage, db) }
        try folds[stage]!.append(window.runningTotals(deviceClass: deviceClass), ingestOrder: lastIngestOrder, db)
        return .stored
    }

    /// Writes the batch's folds over the stored running totals; call once, after the last insert.
    func writeTotals(_ db: Database) throws {
        for fold in folds.values {
            try fold.write(db)
        }
    }

    private mutating func deviceClass(of agentID: String, _ db: Database) throws -> String? {
        if let known = deviceClasses[agentID] { return known }
        let label = try String.fetchOne(
            db, sql: #"SELECT json_extract(labels, '$."device-class"') FROM agents WHERE id = ?"#, arguments: [agentID])
        deviceClasses[agentID] = .some(label)  // nil too: the agent has no device class
        return label
    }

    private mutating func stage(of assignmentID: String, _ db: Database) throws -> StageKey {
        if let known = stages[assignmentID] { return known }
        // The window's insert passed its foreign key, so the assignment exists.
        let row = try Row.fetchOne(db, sql: "SELECT rollout_id, stage FROM assignments WHERE id = ?", arguments: [assignmentID])!
        let stage = StageKey(rolloutID: row["rollout_id"], stage: row["stage"])
        stages[assignmentID] = stage
        return stage
    }

    /// Inserts the window's row; false when the window was already stored.
    private static func insertRow(
        _ window: WindowRecord, ingestOrder: Int64, deviceClass: String?, ingestedAt: Date, _ db: Database
    ) throws -> Bool {
        let summary = window.summary
        let statement = try db.cachedStatement(sql: sql)
        do {
            try statement.execute(arguments: [
                window.agentID, window.assignmentID, window.sequence, summary.startedAtMillis,
                summary.endedAtMillis, summary.count, summary.top1Agreements, summary.klDivergenceSum,
                summary.maxAbsDiff, summary.labelled, summary.referenceCorrect, summary.candidateCorrect,
                summary.referenceOnlyCorrect, summary.candidateOnlyCorrect, summary.referenceLatencyMicrosSum,
                summary.candidateLatencyMicrosSum, summary.shadowDrops, window.kernelPath, ingestedAt,
                window.referenceMemoryBytes, window.candidateMemoryBytes, window.floor.samples, window.floor.agreements,
                window.measures.marginFlips, window.measures.topFiveSharedClasses, window.measures.neighbours.samples,
                window.measures.neighbours.agreements, try window.measures.sketches.map(SketchCoding.encode),
                ingestOrder, deviceClass,
            ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw LedgerError.unknownAssignment(id: window.assignmentID, agentID: window.agentID, sequence: window.sequence)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
            throw LedgerError.invalidWindow(
                agentID: window.agentID, assignmentID: window.assignmentID, sequence: window.sequence,
                reason: error.message ?? "a CHECK constraint failed")
        }
        return db.changesCount > 0
    }

    private static func insertClasses(of window: WindowRecord, into db: Database) throws {
        let statement = try db.cachedStatement(sql: classSQL)
        for index in window.classIndices {
            let agreement = window.agreementByClass[index] ?? AgreementCounts()
            let labels = window.labelsByClass[index] ?? PairedOutcomes()
            do {
                try statement.execute(arguments: [
                    window.agentID, window.assignmentID, window.sequence, index, agreement.samples, agreement.agreements,
                    labels.bothRight, labels.onlyReferenceRight, labels.onlyCandidateRight, labels.bothWrong,
                ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
                throw LedgerError.invalidWindow(
                    agentID: window.agentID, assignmentID: window.assignmentID, sequence: window.sequence,
                    reason: "class \(index): " + (error.message ?? "a CHECK constraint failed"))
            }
        }
    }
}
