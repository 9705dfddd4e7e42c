import Foundation
import ShadowEval
import XCTest

@testable import Ledger

/// One rollout controller at a time: terms with fencing tokens, taken over only once expired, and a
/// decision or rollout event from a coordinator whose term is over refused by the database itself.
final class ControllerTermTests: LedgerTestCase {
    private static let decision = Decision(
        outcome: .collecting, metric: "disagreement", n: 10, statistic: 0.01, lowerBound: 0, upperBound: 0.1,
        confidence: 0.95, policyVersion: "test.1")

    func testATermIsRenewedByItsHolderAndTakenOverOnlyOnceExpired() throws {
        try onEachEngine { fixture in
            let first = try XCTUnwrap(fixture.ledger.latestControllerTerm())
            XCTAssertEqual(first.holder, "ledger-tests")
            let a = try fixture.reopen()
            let b = try fixture.reopen()
            // The fixture's own term lasts an hour: nobody else gets one.
            XCTAssertNil(try a.acquireControllerTerm(holder: "coordinator-a", lasting: .seconds(1)))

            try fixture.ledger.store.write { db in try db.execute(sql: "UPDATE controller_terms SET expires_at = started_at") }
            let termA = try XCTUnwrap(a.acquireControllerTerm(holder: "coordinator-a", lasting: .milliseconds(400)))
            XCTAssertEqual(termA.token, first.token + 1)
            XCTAssertNil(try b.acquireControllerTerm(holder: "coordinator-b", lasting: .seconds(5)), "a's term is live")
            let renewed = try XCTUnwrap(a.acquireControllerTerm(holder: "coordinator-a", lasting: .milliseconds(400)))
            XCTAssertEqual(renewed.token, termA.token, "a renewal keeps the token")
            XCTAssertGreaterThanOrEqual(renewed.expiresAt, termA.expiresAt)

            Thread.sleep(forTimeInterval: 0.6)
            let termB = try XCTUnwrap(b.acquireControllerTerm(holder: "coordinator-b", lasting: .seconds(5)))
            XCTAssertEqual(termB.token, termA.token + 1)
            XCTAssertNil(try a.acquireControllerTerm(holder: "coordinator-a", lasting: .seconds(5)), "b's term is live")
            XCTAssertEqual(try fixture.ledger.controllerTerms().map(\.holder), ["ledger-tests", "coordinator-a", "coordinator-b"])
        }
    }

    /// A paused controller that wakes after losing its term writes with its old token: refused.
    func testTheDatabaseRefusesDecisionsAndEventsFromAnEndedTerm() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.ledger.createStagedRollout(
                StagedRolloutRequest(
                    modelName: "digits", referenceSHA256: LedgerFixture.referenceSHA256, candidateSHA256: LedgerFixture.candidateSHA256,
                    samplingRate: 1, windowSize: 10, windowMaxAgeMillis: 1000, policyVersion: "test.1", target: [:], stages: [50, 100]),
                actor: "operator:ana")
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id)
            try fixture.ledger.recordDecision(Self.decision, rolloutID: rollout.id, at: Date())

            let successor = try fixture.reopen()
            try fixture.ledger.store.write { db in try db.execute(sql: "UPDATE controller_terms SET expires_at = started_at") }
            let term = try XCTUnwrap(successor.acquireControllerTerm(holder: "successor", lasting: .seconds(60)))

            XCTAssertThrowsError(try fixture.ledger.recordDecision(Self.decision, rolloutID: rollout.id, at: Date())) { error in
                guard case .notTheController(let reason)? = error as? LedgerError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("fencing token"), reason)
            }
            XCTAssertThrowsError(try fixture.ledger.changeState(
                rolloutID: rollout.id, from: [.created], to: .running, actor: "operator:ana", action: "start", reason: "test")) { error in
                XCTAssertEqual((error as? LedgerError).map { "\($0)" }?.contains("does not hold the current controller term"), true, "\(error)")
            }
            XCTAssertEqual(try fixture.ledger.plan(forRollout: rollout.id)?.state, .created, "the refused change left nothing behind")
            // An agent's report is not the controller's: any coordinator records it.
            try fixture.ledger.recordAgentReport(assignmentID: assignment.id, agentID: "agent-1", action: "refused", reason: "test")

            try successor.recordDecision(Self.decision, rolloutID: rollout.id, at: Date())
            let tokens = try fixture.openReader().query("SELECT fencing_token FROM decisions ORDER BY id").rows.map { $0[0] }
            XCTAssertEqual(tokens, ["1", String(term.token)])
        }
    }

    func testALedgerThatNeverTookATermCannotDecide() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            XCTAssertThrowsError(try fixture.reopen().recordDecision(Self.decision, rolloutID: rollout.id, at: Date())) { error in
                guard case .notTheController? = error as? LedgerError else { return XCTFail("\(error)") }
            }
        }
    }
}
