import Foundation
import Ledger
import ShadowEval
import XCTest

/// The README's demo command, as a user runs it: real processes, TLS, SQLite, model and traffic.
final class FleetInABoxTests: XCTestCase {
    func testDemoReachesADecisionAndLeavesALedger() throws {
        let directory = try SystemTestSupport.scratchDirectory("demo")
        let (status, output) = try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent("quantfleet"),
            ["demo", "--dir", directory.path, "--root", SystemTestSupport.packageRoot.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("decision: ship"), output)

        let ledger = directory.appendingPathComponent("coordinator/ledger.sqlite").path
        let reader = try Ledger.openReadOnly(path: ledger)
        let rollout = try XCTUnwrap(reader.rollouts().first)
        let decision = try XCTUnwrap(reader.latestDecision(forRollout: rollout.id)?.decision)
        XCTAssertEqual(decision.outcome, .ship)
        XCTAssertGreaterThanOrEqual(decision.n, 500)
        XCTAssertLessThan(decision.upperBound, 0.01)
        XCTAssertEqual(try reader.windowCounts(forRollout: rollout.id).count, 3, "every agent contributed windows")
        // The noise floor: each agent ran the reference on its other float kernel path for ~5 % of
        // the shadowed requests; FMA and separate rounding may flip a near-tie, never many.
        let floor = try reader.query("SELECT SUM(floor_samples), SUM(floor_samples - floor_agreements), SUM(count) FROM windows").rows[0]
        let (floorSamples, floorFlips, samples) = (Int(floor[0]) ?? 0, Int(floor[1]) ?? -1, Int(floor[2]) ?? 0)
        XCTAssertGreaterThan(floorSamples, samples / 40, "about 5 % of \(samples) samples")
        XCTAssertLessThan(floorSamples, samples / 10)
        XCTAssertLessThanOrEqual(floorFlips, floorSamples / 100)

        // The CLI reads the same ledger: status and a read-only query; a write is refused.
        let quantfleet = SystemTestSupport.executables.appendingPathComponent("quantfleet")
        let statusOutput = try SystemTestSupport.run(quantfleet, ["rollout", "status", "--db", ledger])
        XCTAssertEqual(statusOutput.status, 0, statusOutput.output)
        XCTAssertTrue(statusOutput.output.contains("ship"), statusOutput.output)
        XCTAssertTrue(statusOutput.output.contains("latency p50/p99 reference") && statusOutput.output.contains("margin flips"),
                      statusOutput.output)
        XCTAssertTrue(statusOutput.output.contains("latency ratio per request p50/p99 "), statusOutput.output)
        let query = try SystemTestSupport.run(quantfleet, ["ledger", "query", "--db", ledger, "SELECT count(*) AS n FROM decisions"])
        XCTAssertEqual(query.status, 0, query.output)
        let write = try SystemTestSupport.run(quantfleet, ["ledger", "query", "--db", ledger, "DELETE FROM windows"])
        XCTAssertNotEqual(write.status, 0, "a write through the read-only query path must fail")
        XCTAssertGreaterThan(try reader.windowCounts(forRollout: rollout.id).map(\.windows).reduce(0, +), 0)

        // `ledger verify`: the running totals the decisions read equal the re-sum of the windows; a
        // total changed behind the coordinator's back is named with both numbers, and fails the command.
        let verified = try SystemTestSupport.run(quantfleet, ["ledger", "verify", "--db", ledger])
        XCTAssertEqual(verified.status, 0, verified.output)
        XCTAssertTrue(verified.output.hasPrefix("ok: the running totals equal their windows (1 stage, "), verified.output)
        let tamper = try SystemTestSupport.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), [ledger, "UPDATE stage_totals SET samples = samples + 7"])
        XCTAssertEqual(tamper.status, 0, tamper.output)
        let mismatch = try SystemTestSupport.run(quantfleet, ["ledger", "verify", "--db", ledger])
        XCTAssertEqual(mismatch.status, 1, mismatch.output)
        XCTAssertTrue(mismatch.output.contains("mismatch: rollout \(rollout.id) stage 1, whole: samples is "), mismatch.output)
        XCTAssertTrue(mismatch.output.contains("FAILED: 1 part of the running totals differ"), mismatch.output)
    }

    /// `quantfleet demo --coordinators 3 --ledger postgres`: three coordinators on a PostgreSQL
    /// server the demo starts, six agents, a staged rollout, the controller's holder SIGKILLed in
    /// the middle of stage 1; the rollout still ships, and the timeline shows the failover.
    func testDemoWithThreeCoordinatorsSurvivesTheKilledController() throws {
        let directory = try SystemTestSupport.scratchDirectory("demo-coordinators")
        let (status, output) = try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent("quantfleet"),
            ["demo", "--dir", directory.path, "--root", SystemTestSupport.packageRoot.path, "--coordinators", "3", "--ledger", "postgres"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("6 agents"), output)
        XCTAssertTrue(output.contains("SIGKILLed, holding controller term 1"), output)
        let takeover = try XCTUnwrap(output.split(separator: "\n").first { $0.contains("took controller term 2,") }, output)
        let seconds = try XCTUnwrap(Double(takeover.split(separator: ",").last!.split(separator: " ")[0]), String(takeover))
        XCTAssertLessThan(seconds, 10, "a killed controller is replaced within 10 s")
        XCTAssertTrue(output.contains("controller promote: ship at the last stage"), output)
        XCTAssertTrue(output.contains("decision: ship"), output)
    }
}
