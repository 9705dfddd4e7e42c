import Foundation
import Ledger
import ShadowEval
import XCTest

final class IngestTests: LedgerTestCase {
    func testSameWindowTwiceIsStoredOnce() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
            let window = LedgerFixture.window(assignment: assignment.id, sequence: 1)
            XCTAssertEqual(try fixture.ledger.ingest(window), .stored)
            XCTAssertEqual(try fixture.ledger.ingest(window), .duplicate)
            let reader = try fixture.openReader()
            XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM windows").rows, [["1"]])
        }
    }

    func testBatchReportsEachWindow() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 2))
            let results = try fixture.ledger.ingest(
                (1...3).map { LedgerFixture.window(assignment: assignment.id, sequence: $0) })
            XCTAssertEqual(results, [.stored, .duplicate, .stored])
        }
    }

    func testEvidenceSumsTheRolloutsWindows() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id)
            XCTAssertEqual(try fixture.ledger.evidence(forRollout: rollout.id), EvidenceTotals())
            let windows = [
                LedgerFixture.window(agent: "agent-1", assignment: assignment.id, sequence: 1),
                LedgerFixture.window(agent: "agent-1", assignment: assignment.id, sequence: 2, agreements: 95),
                LedgerFixture.window(agent: "agent-2", assignment: assignment.id, sequence: 1, count: 50, agreements: 50,
                                     labelled: 5, referenceOnly: 0, candidateOnly: 1),
            ]
            _ = try fixture.ledger.ingest(windows)
            var expected = EvidenceTotals()
            windows.forEach { expected.append($0.summary) }
            XCTAssertEqual(try fixture.ledger.evidence(forRollout: rollout.id), expected)
            XCTAssertEqual(expected.samples, 250)
            XCTAssertEqual(expected.disagreements, 7)

            let reader = try fixture.openReader()
            let counts = try reader.windowCounts(forRollout: rollout.id)
            XCTAssertEqual(counts.map(\.agentID), ["agent-1", "agent-2"])
            XCTAssertEqual(counts.map(\.windows), [2, 1])
            XCTAssertEqual(counts.map(\.samples), [200, 50])

            let view = try reader.query(
                "SELECT windows, agents, samples, disagreements, labelled, mean_kl, shadow_drops FROM rollout_evidence")
            XCTAssertEqual(view.rows, [["3", "2", "250", "7", "25", String(1.5 / 250), "6"]])
        }
    }

    func testUnknownAssignmentIsRefusedAndTheBatchRolledBack() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
            let batch = [
                LedgerFixture.window(assignment: assignment.id, sequence: 1),
                LedgerFixture.window(assignment: "a-000000000000", sequence: 7),
            ]
            XCTAssertThrowsError(try fixture.ledger.ingest(batch)) {
                XCTAssertEqual($0 as? LedgerError, .unknownAssignment(id: "a-000000000000", agentID: "agent-1", sequence: 7))
            }
            let reader = try fixture.openReader()
            XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM windows").rows, [["0"]])
        }
    }

    func testInconsistentWindowIsRefused() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
            let window = LedgerFixture.window(assignment: assignment.id, sequence: 1, count: 10, agreements: 11)
            XCTAssertThrowsError(try fixture.ledger.ingest(window)) { error in
                guard case .invalidWindow(_, _, 1, let reason)? = error as? LedgerError else {
                    return XCTFail("unexpected error \(error)")
                }
                XCTAssertTrue(reason.contains("top1_agreements"), reason)
            }
        }
    }

    func testNaNOutputsAreStoredAsNull() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
            var window = LedgerFixture.window(assignment: assignment.id, sequence: 1)
            window.summary.maxAbsDiff = .nan
            window.summary.klDivergenceSum = .nan
            XCTAssertEqual(try fixture.ledger.ingest(window), .stored)
            let reader = try fixture.openReader()
            XCTAssertEqual(try reader.query("SELECT kl_divergence_sum, max_abs_diff FROM windows").rows, [["NULL", "NULL"]])
        }
    }
}

/// Coordinators sharing a PostgreSQL ledger: a window resent to another coordinator is stored once,
/// and a ledger carries on after the server crashed and came back.
final class SharedIngestTests: LedgerTestCase {
    /// The agent's first coordinator stored the window but died before acking; the agent sends it
    /// again to a second one.
    func testAWindowResentThroughAnotherCoordinatorIsStoredOnce() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
            let window = LedgerFixture.window(assignment: assignment.id, sequence: 7)
            XCTAssertEqual(try fixture.ledger.ingest(window), .stored)
            let second = try fixture.reopen()
            XCTAssertEqual(try second.ingest([window, LedgerFixture.window(assignment: assignment.id, sequence: 8)]), [.duplicate, .stored])
            XCTAssertEqual(try fixture.openReader().query("SELECT COUNT(*) FROM windows").rows, [["2"]])
            XCTAssertTrue(try fixture.openReader().verifyRunningTotals().passed)
        }
    }

    func testALedgerCarriesOnAfterPostgreSQLCrashedAndRestarted() throws {
        let fixture = try LedgerFixture(.postgres)
        defer { fixture.remove() }
        let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id)
        let reader = try fixture.openReader()
        XCTAssertEqual(try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 1)), .stored)
        XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM windows").rows, [["1"]])

        try TestPostgres.crashAndRestart()
        // Both kept connections died with the server; each store opens a new one.
        XCTAssertEqual(try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 2)), .stored)
        XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM windows").rows, [["2"]])
        XCTAssertTrue(try reader.verifyRunningTotals().passed)
    }
}
