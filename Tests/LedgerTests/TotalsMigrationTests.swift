import Foundation
import GRDB
import ShadowEval
import XCTest

@testable import Ledger

/// Migrations v5 to v10 on a ledger the v4 schema made: its windows are numbered by when they were
/// ingested (v5), its decisions marked as beta-binomial (v8), its windows and class rows keyed by
/// ingest order and its running totals rebuilt from them with their betting processes (v10); ingest
/// then carries on from there.
final class TotalsMigrationTests: XCTestCase {
    func testOldLedgerGetsIngestOrderAndTotalsFromItsWindows() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("totals-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledger.sqlite").path

        // Stage 0 and stage 1 of one rollout; ingested_at out of insertion order.
        let stageZero = (0..<6).map { RunningTotalsTests.window(number: $0, assignment: "a-stage0") }
        let stageOne = (6..<9).map { RunningTotalsTests.window(number: $0, assignment: "a-stage1") }
        let ingestedAt = ["2027-01-01 10:00:05.000", "2027-01-01 10:00:01.000", "2027-01-01 10:00:03.000",
                          "2027-01-01 10:00:02.000", "2027-01-01 10:00:04.000", "2027-01-01 10:00:00.000",
                          "2027-01-01 11:00:00.000", "2027-01-01 11:00:00.000", "2027-01-01 10:59:00.000"]
        do {
            let old = try DatabaseQueue(path: path)
            try LedgerSchema.migrator.migrate(old, upTo: "v4")
            try old.write { db in
                try db.execute(sql: """
                    INSERT INTO models (sha256, name, precision, size_bytes, registered_at) VALUES
                        ('\(LedgerFixture.referenceSHA256)', 'digits', 'fp16', 2000, '2027-01-01 09:00:00.000'),
                        ('\(LedgerFixture.candidateSHA256)', 'digits', 'int8', 1000, '2027-01-01 09:00:00.000');
                    INSERT INTO rollouts (id, model_name, reference_sha256, candidate_sha256, sampling_rate, window_size,
                                          policy_version, status, created_at)
                    VALUES ('r-old', 'digits', '\(LedgerFixture.referenceSHA256)', '\(LedgerFixture.candidateSHA256)', 1, 100,
                            'test.1', 'shadowing', '2027-01-01 09:00:00.000');
                    INSERT INTO assignments (id, rollout_id, stage, created_at) VALUES
                        ('a-stage0', 'r-old', 0, '2027-01-01 09:00:00.000'), ('a-stage1', 'r-old', 1, '2027-01-01 10:30:00.000');
                    INSERT INTO agents (id, kernel_path, agent_version, first_seen_at, last_seen_at, labels) VALUES
                        ('agent-1', 'avx2', 't', '2027-01-01 09:00:00.000', '2027-01-01 09:00:00.000', '{"device-class":"pi5"}');
                    """)
                for (window, at) in zip(stageZero + stageOne, ingestedAt) { try Self.insertAsV4(window, ingestedAt: at, db) }
                try db.execute(sql: """
                    INSERT INTO decisions (rollout_id, decided_at, outcome, metric, n, statistic, lower_bound, upper_bound,
                                           confidence, policy_version, stage)
                    VALUES ('r-old', '2027-01-01 10:00:06.000', 'collecting', 'disagreement', 600, 0.02, 0.01, 0.04, 0.95, 'test.1', 0)
                    """)
            }
        }

        XCTAssertThrowsError(try Ledger.openReadOnly(path: path), "read-only cannot migrate") {
            XCTAssertEqual($0 as? LedgerError, .olderSchema(path: path, schema: "v4", needed: "v14-window-rollups"))
        }
        let ledger = try Ledger(path: path)
        let reader = try Ledger.openReadOnly(path: path)
        XCTAssertTrue(try reader.query("SELECT identifier FROM grdb_migrations").rows.contains(["v5"]))
        XCTAssertEqual(
            try reader.query("SELECT sequence FROM windows WHERE assignment_id = 'a-stage0' ORDER BY ingest_order").rows,
            [["5"], ["1"], ["3"], ["2"], ["4"], ["0"]])
        XCTAssertEqual(try reader.query("SELECT ingest_order FROM windows ORDER BY ingest_order").rows.map { $0[0] }, (1...9).map(String.init))
        // Each class row went with its window: the first window ingested (sequence 5) keeps its classes.
        XCTAssertEqual(
            try reader.query("SELECT class, samples FROM window_classes WHERE ingest_order = 1 ORDER BY class").rows,
            stageZero[5].classIndices.sorted().map { [String($0), String(stageZero[5].agreementByClass[$0]?.samples ?? 0)] })
        XCTAssertEqual(try reader.query("PRAGMA foreign_key_check").rows, [])
        XCTAssertEqual(try reader.verifyRunningTotals().mismatches, [])
        XCTAssertEqual(try reader.query("SELECT bound_method FROM decision_history").rows, [["beta-binomial"]])
        XCTAssertEqual(try reader.decisions(forRollout: "r-old").map(\.decision.boundMethod), [.betaBinomial])

        // In ingest order, which the betting processes follow: the order the windows were ingested in.
        func expected(_ windows: [WindowRecord]) throws -> RunningTotals {
            let ingestOrder = try reader.query("SELECT sequence FROM windows ORDER BY ingest_order").rows.map { Int64($0[0])! }
            return windows.sorted { ingestOrder.firstIndex(of: $0.sequence)! < ingestOrder.firstIndex(of: $1.sequence)! }
                .reduce(into: RunningTotals()) { $0.append($1.runningTotals(deviceClass: $1.agentID == "agent-1" ? "pi5" : nil)) }
        }
        XCTAssertEqual(try ledger.rolloutEvidence(forRollout: "r-old", stage: 0), try expected(stageZero).evidence)
        XCTAssertEqual(try ledger.rolloutEvidence(forRollout: "r-old", stage: 1), try expected(stageOne).evidence)
        XCTAssertEqual(try reader.measures(forRollout: "r-old").measures, try expected(stageZero + stageOne).measures)

        // Ingest carries on: the next window is number 10, a resend of an old one is a duplicate.
        let next = RunningTotalsTests.window(number: 9, assignment: "a-stage1")
        XCTAssertEqual(try ledger.ingest([next, stageOne[0]]), [.stored, .duplicate])
        XCTAssertEqual(try reader.query("SELECT MAX(ingest_order), COUNT(*) FROM windows").rows, [["10", "10"]])
        XCTAssertEqual(try ledger.rolloutEvidence(forRollout: "r-old", stage: 1), try expected(stageOne + [next]).evidence)
        XCTAssertEqual(try reader.verifyRunningTotals().mismatches, [])
    }

    /// A window as the v4 coordinator stored it: no ingest order, no device class.
    private static func insertAsV4(_ window: WindowRecord, ingestedAt: String, _ db: Database) throws {
        let summary = window.summary
        try db.execute(
            sql: """
                INSERT INTO windows (
                    agent_id, assignment_id, sequence, started_at_ms, ended_at_ms, count, top1_agreements,
                    kl_divergence_sum, max_abs_diff, labelled, reference_correct, candidate_correct,
                    reference_only_correct, candidate_only_correct, reference_latency_us_sum,
                    candidate_latency_us_sum, shadow_drops, kernel_path, ingested_at,
                    reference_memory_bytes, candidate_memory_bytes, floor_samples, floor_agreements,
                    margin_flips, top5_shared_classes, neighbour_samples, neighbour_agreements, sketches)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                window.agentID, window.assignmentID, window.sequence, summary.startedAtMillis, summary.endedAtMillis,
                summary.count, summary.top1Agreements, summary.klDivergenceSum, summary.maxAbsDiff, summary.labelled,
                summary.referenceCorrect, summary.candidateCorrect, summary.referenceOnlyCorrect, summary.candidateOnlyCorrect,
                summary.referenceLatencyMicrosSum, summary.candidateLatencyMicrosSum, summary.shadowDrops, window.kernelPath,
                ingestedAt, window.referenceMemoryBytes, window.candidateMemoryBytes, window.floor.samples,
                window.floor.agreements, window.measures.marginFlips, window.measures.topFiveSharedClasses,
                window.measures.neighbours.samples, window.measures.neighbours.agreements,
                try window.measures.sketches.map(SketchCoding.encode),
            ])
        for index in window.classIndices {
            let agreement = window.agreementByClass[index] ?? AgreementCounts()
            let labels = window.labelsByClass[index] ?? PairedOutcomes()
            try db.execute(
                sql: """
                    INSERT INTO window_classes (agent_id, assignment_id, sequence, class, samples, agreements,
                        both_right, reference_only_right, candidate_only_right, both_wrong) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [window.agentID, window.assignmentID, window.sequence, index, agreement.samples, agreement.agreements,
                            labels.bothRight, labels.onlyReferenceRight, labels.onlyCandidateRight, labels.bothWrong])
        }
    }
}
