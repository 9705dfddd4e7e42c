import Foundation
import Ledger
import XCTest

final class RolloutTests: LedgerTestCase {
    func testFreshLedgerHasTheSchema() throws {
        try onEachEngine { fixture in
            let reader = try fixture.openReader()
            let relations = [
                ["table", "agent_events"], ["view", "agent_health"], ["table", "agents"], ["table", "assignment_versions"],
                ["table", "assignments"], ["table", "controller_terms"], ["view", "decision_history"], ["table", "decisions"],
                ["table", "model_chunks"], ["table", "models"], ["table", "rolled_sequences"],
                ["table", "rollout_events"], ["view", "rollout_evidence"], ["table", "rollout_plans"], ["view", "rollout_summary"],
                ["table", "rollouts"], ["table", "rollup_checkpoints"], ["table", "serving_changes"], ["table", "slice_totals"], ["view", "stage_evidence"],
                ["table", "stage_members"], ["table", "stage_totals"], ["table", "window_classes"], ["table", "windows"],
            ]
            let migrations = [
                ["v1"], ["v2"], ["v3"], ["v4"], ["v5"], ["v6"], ["v7-signed-metadata-versions"], ["v8-betting-bounds"],
                ["v9-ingest-indexes"], ["v10-windows-in-ingest-order"], ["v11-controller-terms"], ["v12-model-chunks"],
                ["v13-plan-minimum-agent-version"], ["v14-window-rollups"],
            ]
            switch fixture.engine {
            case .sqlite:
                let objects = try reader.query("""
                    SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                    AND type IN ('table', 'view') ORDER BY name
                    """)
                XCTAssertEqual(objects.rows, relations)
                XCTAssertEqual(try reader.query("PRAGMA journal_mode").rows, [["wal"]])
                XCTAssertEqual(try reader.query("PRAGMA auto_vacuum").rows, [["2"]], "incremental: a rollup gives pages back")
                XCTAssertEqual(try reader.query("SELECT identifier FROM grdb_migrations").rows, migrations)
                // Windows and their class rows are keyed by ingest order; besides that, a window lands only in
                // the unique index that makes ingest idempotent and in the index of each stage in ingest order.
                XCTAssertEqual(
                    try reader.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'window%' ORDER BY name").rows,
                    [["sqlite_autoindex_windows_1"], ["windows_by_assignment_in_order"]])
            case .postgres:
                let objects = try reader.query("""
                    SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END, table_name FROM information_schema.tables
                    WHERE table_schema = 'public' AND table_name <> 'ledger_migrations' ORDER BY table_name
                    """)
                XCTAssertEqual(objects.rows, relations)
                XCTAssertEqual(Set(try reader.query("SELECT identifier FROM ledger_migrations").rows), Set(migrations))
            }
        }
    }

    func testRegisteringAModelTwiceKeepsOneRow() throws {
        try onEachEngine { fixture in
            try fixture.ledger.registerModel(
                ModelRecord(sha256: LedgerFixture.referenceSHA256, name: "digits", precision: "fp16", sizeBytes: 2_000,
                            registeredAt: Date()))
            let reader = try fixture.openReader()
            XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM models").rows, [["2"]])
        }
    }

    func testEnsureRolloutCreatesOnceWithAStageZeroAssignment() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            XCTAssertTrue(rollout.id.wholeMatch(of: /r-[0-9a-f]{12}/) != nil, rollout.id)
            XCTAssertEqual(rollout.status, .shadowing)
            XCTAssertNil(rollout.outcome)
            XCTAssertEqual(try fixture.makeRollout(), rollout)
            XCTAssertEqual(try fixture.ledger.openRollouts(), [rollout])

            let assignment = try fixture.ledger.assignment(forRollout: rollout.id)
            XCTAssertTrue(assignment.id.wholeMatch(of: /a-[0-9a-f]{12}/) != nil, assignment.id)
            XCTAssertEqual(assignment.rolloutID, rollout.id)
            XCTAssertEqual(assignment.stage, 0)
        }
    }

    func testRolloutRefusesUnknownModelsAndNonsenseSettings() throws {
        try onEachEngine { fixture in
            let unknown = String(repeating: "c", count: 64)
            XCTAssertThrowsError(
                try fixture.ledger.ensureRollout(
                    modelName: "digits", referenceSHA256: LedgerFixture.referenceSHA256, candidateSHA256: unknown,
                    samplingRate: 0.1, windowSize: 100, policyVersion: "test.1")
            ) { XCTAssertEqual($0 as? LedgerError, .unknownModel(sha256: unknown)) }
            XCTAssertThrowsError(
                try fixture.ledger.ensureRollout(
                    modelName: "digits", referenceSHA256: LedgerFixture.referenceSHA256,
                    candidateSHA256: LedgerFixture.candidateSHA256, samplingRate: 0, windowSize: 100, policyVersion: "t")
            ) { XCTAssertEqual($0 as? LedgerError, .invalidSamplingRate(0)) }
            XCTAssertThrowsError(try fixture.ledger.assignment(forRollout: "r-missing")) {
                XCTAssertEqual("\($0)", "ledger: no rollout with id r-missing")
            }
        }
    }

    func testAgentSightingsKeepTheFirstAndUpdateTheLast() throws {
        try onEachEngine { fixture in
            let first = Date(timeIntervalSince1970: 1_800_000_000)
            let later = first.addingTimeInterval(60)
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "0.1", at: first)
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx512-vnni", agentVersion: "0.2", at: later)
            let reader = try fixture.openReader()
            XCTAssertEqual(
                try reader.query("SELECT kernel_path, agent_version, first_seen_at, last_seen_at FROM agents").rows,
                [["avx512-vnni", "0.2", "2027-01-15 08:00:00.000", "2027-01-15 08:01:00.000"]])
        }
    }
}
