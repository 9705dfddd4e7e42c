import Foundation
import GRDB
import ShadowEval
import XCTest

@testable import Ledger

/// Retention (migration v14): old windows rolled up into one row per (assignment, agent, day, kernel
/// path, device class) leave the evidence, the views, the measures and `ledger verify` as they were,
/// a resent rolled-up window is still a duplicate, and ingest and verification go on after it.
final class RollupTests: LedgerTestCase {
    func testARollupLeavesEvidenceViewsAndVerificationAsTheyWere() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "t", labels: ["device-class": "pi5"], at: Date())
            try fixture.ledger.recordAgentSeen(id: "agent-2", kernelPath: "scalar", agentVersion: "t", labels: [:], at: Date())
            let windows = (0..<50).map { RunningTotalsTests.window(number: $0, assignment: assignment) }
            _ = try fixture.ledger.ingest(Array(windows[0..<40]))
            // Windows 1-20 arrived 40 days ago, 21-30 35 days ago, the rest now.
            let now = Date()
            try fixture.ledger.store.write { db in
                try db.execute(sql: "UPDATE windows SET ingested_at = ? WHERE ingest_order <= 20", arguments: [now.addingTimeInterval(-40 * 86_400)])
                try db.execute(
                    sql: "UPDATE windows SET ingested_at = ? WHERE ingest_order > 20 AND ingest_order <= 30",
                    arguments: [now.addingTimeInterval(-35 * 86_400)])
            }
            let before = try Self.everythingRead(fixture, rollout: rollout.id)

            let report = try fixture.ledger.rollUp(windowsIngestedBefore: now.addingTimeInterval(-30 * 86_400), windowsPerTransaction: 7)
            XCTAssertEqual(report.windowsRolledUp, 30)
            XCTAssertEqual(report.transactions, 5, "30 windows, 7 at a time")
            let reader = try fixture.openReader()
            let rows = Int(try reader.query("SELECT COUNT(*) FROM windows").rows[0][0])!
            XCTAssertEqual(rows, 10 + report.rowsWritten)
            // Two days of two agents (each on one kernel path): four rows, though five transactions
            // each rolled up part of a day.
            XCTAssertEqual(report.rowsWritten, 4)
            XCTAssertEqual(try reader.query("SELECT SUM(windows_merged) FROM windows WHERE sequence < 0").rows, [["30"]])
            XCTAssertEqual(try Self.everythingRead(fixture, rollout: rollout.id), before)
            let verification = try reader.verifyRunningTotals()
            XCTAssertEqual(verification.mismatches, [])
            XCTAssertEqual(verification.windowsChecked, 40)

            // A rolled-up window sent again is a duplicate, as a stored one is.
            XCTAssertEqual(try fixture.ledger.ingest([windows[3], windows[25]]), [.duplicate, .duplicate])
            XCTAssertEqual(try Self.everythingRead(fixture, rollout: rollout.id), before)

            // Ingest goes on; then everything is rolled up, and ingest still goes on in order.
            _ = try fixture.ledger.ingest(Array(windows[40..<45]))
            _ = try fixture.ledger.rollUp(windowsIngestedBefore: now.addingTimeInterval(86_400))
            XCTAssertEqual(try fixture.ledger.ingest([windows[44]]), [.duplicate])
            _ = try fixture.ledger.ingest(Array(windows[45...]))
            var expected = RunningTotals()
            for window in windows { expected.append(window.runningTotals(deviceClass: window.agentID == "agent-1" ? "pi5" : nil)) }
            XCTAssertEqual(try fixture.ledger.rolloutEvidence(forRollout: rollout.id), expected.evidence)
            let afterAll = try fixture.openReader().verifyRunningTotals()
            XCTAssertEqual(afterAll.mismatches, [])
            XCTAssertEqual(afterAll.windowsChecked, 50)
            XCTAssertEqual(try fixture.openReader().query("SELECT SUM(windows) FROM rollout_evidence").rows, [["50"]])
        }
    }

    /// Verification still catches running totals that differ from what the rolled-up rows hold.
    func testVerificationReadsRolledUpRows() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            _ = try fixture.ledger.ingest((0..<6).map { RunningTotalsTests.window(number: $0, assignment: assignment) })
            _ = try fixture.ledger.rollUp(windowsIngestedBefore: Date().addingTimeInterval(60))
            try fixture.ledger.store.write { db in try db.execute(sql: "UPDATE windows SET count = count + 1") }
            let mismatches = try fixture.openReader().verifyRunningTotals().mismatches.map(\.description)
            XCTAssertTrue(mismatches.contains { $0.contains("whole: samples is 600 in the running totals, ") }, "\(mismatches)")
        }
    }

    /// What a user or a decision reads of a rollout: its evidence, measures, and the views.
    private struct Read: Equatable {
        var evidence: RolloutEvidence
        var measures: WindowMeasures
        var views: [[[String]]]
    }

    private static func everythingRead(_ fixture: LedgerFixture, rollout: String) throws -> Read {
        let reader = try fixture.openReader()
        let views = ["rollout_evidence", "stage_evidence ORDER BY agent_id, kernel_path", "agent_health ORDER BY agent_id", "rollout_summary"]
        return Read(
            evidence: try fixture.ledger.rolloutEvidence(forRollout: rollout), measures: try reader.measures(forRollout: rollout).measures,
            views: try views.map { try reader.query("SELECT * FROM \($0)").rows })
    }
}
