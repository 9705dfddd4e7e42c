import Foundation
import GRDB
import ShadowEval

/// The hot path of ingest: one cached statement per connection, reused for every window.
enum WindowInsertion {
    private static let sql = """
        INSERT INTO windows (
            agent_id, assignment_id, sequence, started_at_ms, ended_at_ms, count, top1_agreements,
            kl_divergence_sum, max_abs_diff, labelled, reference_correct, candidate_correct,
            reference_only_correct, candidate_only_correct, reference_latency_us_sum,
            candidate_latency_us_sum, shadow_drops, kernel_path, ingested_at,
            reference_memory_bytes, candidate_memory_bytes, floor_samples, floor_agreements,
            margin_flips, top5_shared_classes, neighbour_samples, neighbour_agreements, sketches)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (agent_id, assignment_id, sequence) DO NOTHING
        """
    private static let classSQL = """
        INSERT INTO window_classes (
            agent_id, assignment_id, sequence, class, samples, agreements,
            both_right, reference_only_right, candidate_only_right, both_wrong)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static func insert(_ window: WindowRecord, ingestedAt: Date, into db: Database) throws -> IngestResult {
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
                window.measures.neighbours.agreements, try window.measures.sketches.map(Self.sketchText),
            ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw LedgerError.unknownAssignment(id: window.assignmentID, agentID: window.agentID, sequence: window.sequence)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK {
            throw LedgerError.invalidWindow(
                agentID: window.agentID, assignmentID: window.assignmentID, sequence: window.sequence,
                reason: error.message ?? "a CHECK constraint failed")
        }
        guard db.changesCount > 0 else { return .duplicate }
        try insertClasses(of: window, into: db)
        return .stored
    }

    private static func sketchText(_ sketches: WindowSketches) throws -> String {
        String(decoding: try JSONEncoder().encode(sketches), as: UTF8.self)
    }

    private static func insertClasses(of window: WindowRecord, into db: Database) throws {
        let statement = try db.cachedStatement(sql: classSQL)
        for index in Set(window.agreementByClass.keys).union(window.labelsByClass.keys).sorted() {
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
