import Foundation
import ShadowEval
import XCTest

@testable import Ledger

/// A micro-measurement, printed and not asserted on time (machines differ): the cost of one
/// evaluation (read a stage's evidence, judge it and its slices) at 1,000 and at 100,000 windows (10,000 on PostgreSQL),
/// from the running totals and, for comparison, from the SQL re-sum decisions used before v5.
final class DecisionCostTests: LedgerTestCase {
    func testDecisionCostDoesNotGrowWithTheWindows() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            let policy = Policy(
                version: "cost.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95, minimumSamples: 2_000, minimumLabelled: 1_000,
                slices: SlicePolicy(dimensions: [.class, .kernelPath], minimumSamples: 1_000))
            let stage = StageKey(rolloutID: rollout.id, stage: 0)
            var stored = 0
            var lines: [String] = []
            // PostgreSQL stores each window in round trips of its own: 10,000 windows keep the test short.
            for target in [1_000, fixture.engine == .sqlite ? 100_000 : 10_000] {
                while stored < target {
                    let batch = (stored..<min(target, stored + 5_000)).map { IngestBenchmark.window(number: $0, assignment: assignment) }
                    _ = try fixture.ledger.ingest(batch)
                    stored += batch.count
                }
                let evaluations = 20
                var decision: RolloutDecision?
                let running = try Self.seconds(evaluations) {
                    decision = PolicyEvaluator.decide(try fixture.ledger.rolloutEvidence(forRollout: rollout.id, stage: 0), policy: policy)
                }
                // The re-sum has counts in no order, so it is judged as then, by the mixture bounds.
                var mixture = policy
                mixture.bounds = .betaBinomial
                let resum = try Self.seconds(1) {
                    let totals = try fixture.ledger.store.read { db in try WindowResum.totals(db, stage: stage) }
                    _ = PolicyEvaluator.decide(totals.evidence, policy: mixture)
                }
                XCTAssertEqual(decision?.decision.n, 10 * target, "the labelled samples of every window")
                lines.append(String(format: "%7d windows: %.3f ms per evaluation from running totals, %.1f ms from the SQL re-sum",
                                    target, running * 1000 / Double(evaluations), resum * 1000))
            }
            XCTAssertTrue(try fixture.openReader().verifyRunningTotals().passed)
            print("decision cost on \(fixture.engine) (debug build):\n" + lines.joined(separator: "\n"))
        }
    }

    private static func seconds(_ repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let elapsed = try clock.measure { for _ in 0..<repetitions { try body() } }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
