import Foundation
import Ledger
import ShadowEval
import XCTest

/// The engineers' views answer their questions with one SELECT.
final class LedgerViewsTests: LedgerTestCase {
    func testViewsSummariseRolloutsStagesAgentsAndDecisions() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id)
            let seen = Date(timeIntervalSince1970: 1_800_000_100)
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "0.1.0", labels: ["site": "plant-7"], at: seen)
            try fixture.ledger.recordAgentSeen(id: "agent-2", kernelPath: "scalar", agentVersion: "0.1.0", labels: ["site": "lab"], at: seen)
            _ = try fixture.ledger.ingest([
                LedgerFixture.window(agent: "agent-1", assignment: assignment.id, sequence: 0, agreements: 90),
                LedgerFixture.window(agent: "agent-1", assignment: assignment.id, sequence: 1, agreements: 96),
                LedgerFixture.window(agent: "agent-2", assignment: assignment.id, sequence: 0, count: 50, agreements: 50,
                                     labelled: 5, referenceOnly: 0, candidateOnly: 1),
            ])
            let decision = Decision(
                outcome: .collecting, metric: "disagreement", n: 250, statistic: 0.056, lowerBound: 0.03, upperBound: 0.09,
                confidence: 0.95, policyVersion: "test.1")
            try fixture.ledger.recordDecision(decision, rolloutID: rollout.id, at: seen)
            let reader = try fixture.openReader()

            XCTAssertEqual(
                try reader.query("SELECT rollout_id, status, latest_decision, latest_n, policy_version FROM rollout_summary").rows,
                [[rollout.id, "shadowing", "collecting", "250", "test.1"]])

            // "Which site disagreed most?" is one SELECT; the kernel path is the one each window ran on.
            XCTAssertEqual(
                try reader.query("""
                    SELECT \(fixture.engine == .sqlite ? "json_extract(labels, '$.site')" : "labels->>'site'") AS site,
                           kernel_path, samples, disagreement_rate
                    FROM stage_evidence WHERE rollout_id = '\(rollout.id)' ORDER BY disagreement_rate DESC
                    """).rows,
                [["plant-7", "avx2", "200", String(14.0 / 200)], ["lab", "avx2", "50", "0.0"]])

            XCTAssertEqual(
                try reader.query("SELECT agent_id, windows, samples, shadow_drops FROM agent_health ORDER BY agent_id").rows,
                [["agent-1", "2", "200", "4"], ["agent-2", "1", "50", "2"]])

            XCTAssertEqual(
                try reader.query("SELECT rollout_id, outcome, n, upper_bound FROM decision_history").rows,
                [[rollout.id, "collecting", "250", "0.09"]])
        }
    }
}
