import Agent
import Foundation
import Ledger
import Operations
import XCTest

/// A real agent with its spool capped at 1 MB serves traffic through a long coordinator outage
/// (SIGKILLed, restarted 25 s later). Its windows outgrow the cap, so it merges the oldest unsent
/// ones and says so; once the coordinator is back, every request the agent answered is in the
/// ledger's counts, exactly.
final class SpoolCapOutageTests: XCTestCase {
    static let cap = 1 << 20

    func testAOneMegabyteSpoolThroughALongOutageLosesNoCount() async throws {
        let fleet = try await SystemTestSupport.startFleet("spool-cap", certified: ["agent-1"], running: [], for: self) { settings in
            settings.windowSize = 2
        }
        let agent = try fleet.startAgent("agent-1", spoolMaxBytes: Self.cap)
        try await fleet.waitUntilReady(["agent-1"])
        let port = try XCTUnwrap(agent.port)
        let traffic = TrafficRounds.start(
            agents: [agent], data: SystemTestSupport.traffic, model: SystemTestSupport.modelName, roundSize: 200, concurrency: 4,
            requestTimeout: .seconds(30))
        try await Task.sleep(for: .seconds(2))

        fleet.coordinator?.kill()
        let outage = ContinuousClock.now
        try await SystemTestSupport.eventually(timeout: .seconds(120), "the spool merges windows to stay under 1 MB") {
            try await SystemTestSupport.metric("quantfleet_agent_spool_windows_merged_total", port: port) > 0
        }
        try await Task.sleep(until: outage + .seconds(25))
        let merged = try await SystemTestSupport.metric("quantfleet_agent_spool_windows_merged_total", port: port)
        let pendingBytes = try await SystemTestSupport.metric("quantfleet_agent_spool_pending_bytes", port: port)
        XCTAssertLessThanOrEqual(pendingBytes, Double(Self.cap), "the spool stayed under its cap")
        await traffic.stop()
        // The last partial window is sealed by age (300 ms).
        try await Task.sleep(for: .seconds(1))
        let answered = try await SystemTestSupport.metric("quantfleet_agent_requests_total", port: port)
        let log = try String(contentsOf: fleet.layout.log("agent-1"), encoding: .utf8)
        XCTAssertTrue(log.contains("the spool passed spool-max-bytes: merged its oldest unsent windows"), "the agent says it merged")

        try fleet.restartCoordinator()
        let spool = try WindowSpool(path: fleet.layout.spool("agent-1").path)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the spool drains into the ledger") {
            try spool.pending().isEmpty
        }
        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        let stored = try ledger.query("SELECT SUM(count) + SUM(shadow_drops), COUNT(*) FROM windows").rows[0]
        print("answered \(Int(answered)) requests; \(Int(merged)) windows merged through the outage; "
              + "\(stored[1]) windows stored; spool at \(Int(pendingBytes)) bytes at the outage's end")
        XCTAssertEqual(Int(stored[0]), Int(answered), "every request answered is counted in the ledger once")
        XCTAssertTrue(try ledger.verifyRunningTotals().passed)
    }
}
