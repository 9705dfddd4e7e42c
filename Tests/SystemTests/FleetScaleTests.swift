import DaemonSupport
import Foundation
import Ledger
import LoadGeneration
import ShadowEval
import XCTest

/// The real coordinator process under a fleet of simulated agents from the load generator (real TLS
/// with a certificate each, the real protocol), SIGKILLed in the middle of their windows and
/// restarted: every window is in the ledger exactly once, the decision is the one the true drop
/// calls for, and the running totals equal the SQL re-sum.
final class FleetScaleTests: XCTestCase {
    /// 1,000 agents in a debug build: 50 s on 2 cores otherwise idle, about 130 handshakes a second
    /// (both ends' BoringSSL unoptimised, generator and coordinator sharing the cores), the fleet
    /// connected in 8 s and back 12.5 s after the kill; 81 s with another job loading the machine.
    static let agents = 1000

    func testAThousandAgentsSurviveACoordinatorKillWithEveryWindowStoredOnce() async throws {
        let limit = FileLimit.raiseSoftToHard()
        XCTAssertNil(limit.warning(connections: Self.agents, role: "agents"), "this test needs one file per agent")
        let simulated = try SimulatedFleet.start("fleet-scale", for: self)
        var plan = simulated.plan(agents: Self.agents, windowInterval: .seconds(2), duration: .seconds(45))
        plan.drainTimeout = .seconds(40)
        plan.backoff = .init(initialMillis: 200, maximumMillis: 3000)
        let generator = try simulated.generator(plan)
        let (fleet, layout) = (simulated.fleet, simulated.layout)
        let prepared = try generator.prepareAgents()
        XCTAssertEqual(prepared.issued, Self.agents)
        let run = Task { try await generator.run(prepared) }
        // Stops the agents before the teardown stops the coordinator if the test fails early.
        defer { run.cancel() }

        // Killed once the whole fleet is connected and sending, with windows in flight.
        try await SystemTestSupport.eventually(timeout: .seconds(90), "all agents connected and windows acked") {
            let now = generator.measurements.snapshot
            return now.agentsEverConnected == Self.agents && now.windowsAcked >= 2 * Self.agents
        }
        fleet.coordinator?.kill()
        let atKill = generator.measurements.snapshot
        try fleet.restartCoordinator()
        var result = try await run.value
        let measured = result.measurements
        result.ledgerDecision = try LedgerDecision.read(ledger: layout.ledger.path, assignmentIDs: measured.assignmentsSeen)
        print(result.lines.joined(separator: "\n"))

        XCTAssertGreaterThan(measured.windowsMade, atKill.windowsMade, "windows went on after the restart")
        XCTAssertEqual(result.timeline.unackedAtEnd, 0, "every window was acked in the end")
        XCTAssertEqual(measured.windowsAcked, measured.windowsMade)
        XCTAssertFalse(measured.outages.isEmpty, "the kill dropped the agents")
        XCTAssertTrue(measured.outages.allSatisfy { $0.ended != nil }, "every agent came back")

        let ledger = try Ledger.openReadOnly(path: layout.ledger.path)
        let counts = try ledger.query("""
            SELECT count(*), count(DISTINCT agent_id || ' ' || assignment_id || ' ' || sequence), sum(count) FROM windows
            """).rows[0].map { Int($0) ?? -1 }
        XCTAssertEqual(counts, [measured.windowsMade, measured.windowsMade, measured.windowsMade * 100],
                       "every window made is in the ledger exactly once")

        XCTAssertEqual(result.expectedOutcome, .ship)
        XCTAssertEqual(result.ledgerDecision?.outcome, .ship, "a 0.5 % drop ships under 1 % / 3 % bands")

        let verify = try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent("quantfleet"), ["ledger", "verify", "--db", layout.ledger.path])
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertTrue(verify.output.hasPrefix("ok:"), verify.output)
    }
}
