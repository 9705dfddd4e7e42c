import Foundation
import Ledger
import ShadowEval
import XCTest

final class DecisionTests: LedgerTestCase {
    private func decision(_ outcome: Outcome, n: Int) -> Decision {
        Decision(outcome: outcome, metric: "disagreement", n: n, statistic: 0.002, lowerBound: 0.0005,
                 upperBound: 0.0048, confidence: 0.95, policyVersion: "test.1",
                 reason: "upper bound below ship-below 1.00 %", shipBelow: 0.01, stayFP16Above: 0.03)
    }

    func testCollectingIsRecordedAndKeepsTheRolloutOpen() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            XCTAssertNil(try fixture.ledger.latestDecision(forRollout: rollout.id))
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            try fixture.ledger.recordDecision(decision(.collecting, n: 100), rolloutID: rollout.id, at: at)
            try fixture.ledger.recordDecision(decision(.collecting, n: 200), rolloutID: rollout.id, at: at)
            let latest = try XCTUnwrap(try fixture.ledger.latestDecision(forRollout: rollout.id))
            XCTAssertEqual(latest.decision, decision(.collecting, n: 200))
            XCTAssertEqual(latest.decidedAt, at)
            XCTAssertEqual(try fixture.ledger.openRollouts().map(\.id), [rollout.id])
        }
    }

    func testFinalOutcomeClosesTheRollout() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            try fixture.ledger.recordDecision(decision(.collecting, n: 100), rolloutID: rollout.id, at: at)
            try fixture.ledger.recordDecision(decision(.ship, n: 5000), rolloutID: rollout.id, at: at)
            XCTAssertEqual(try fixture.ledger.openRollouts(), [])

            let reader = try fixture.openReader()
            let closed = try XCTUnwrap(try reader.rollouts().first)
            XCTAssertEqual(closed.status, .decided)
            XCTAssertEqual(closed.outcome, .ship)
            XCTAssertEqual(closed.decidedAt, at)
            XCTAssertEqual(try reader.latestDecision(forRollout: rollout.id)?.decision, decision(.ship, n: 5000))
            XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM decisions").rows, [["2"]])

            XCTAssertThrowsError(try fixture.ledger.recordDecision(decision(.collecting, n: 6000), rolloutID: rollout.id, at: at)) {
                XCTAssertEqual($0 as? LedgerError, .rolloutAlreadyDecided(id: rollout.id, outcome: "ship"))
            }
            // A new rollout for the same models may start once the old one is decided.
            XCTAssertNotEqual(try fixture.makeRollout().id, rollout.id)
        }
    }

    func testDecisionForUnknownRolloutIsRefused() throws {
        try onEachEngine { fixture in
            XCTAssertThrowsError(try fixture.ledger.recordDecision(decision(.ship, n: 1), rolloutID: "r-nope", at: Date())) {
                XCTAssertEqual($0 as? LedgerError, .unknownRollout(id: "r-nope"))
            }
        }
    }
}
