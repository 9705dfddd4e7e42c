import Foundation
import LoadGeneration
import Operations
import XCTest

/// Agents that send faster than `agent-limits` allows, beside agents that do not, against the real
/// coordinator: the fast ones are read more slowly (logged, counted) and still acked in the end,
/// and the others' acks do not wait for them.
final class AgentLimitsFleetTests: XCTestCase {
    func testAnAgentOverItsByteRateIsSlowedAloneLoggedAndCounted() async throws {
        let metricsPort = try FreePort.allocate()
        let simulated = try SimulatedFleet.start("agent-limits", for: self) { settings in
            settings.metricsPort = metricsPort
            // A window of 100 samples in 10 classes is about 250 bytes: a flooder sends 50 a second (12 KB/s).
            settings.agentLimits = (windowsInFlight: 4, bytesPerSecond: 4000)
        }
        var flooding = simulated.plan(agents: 5, windowInterval: .milliseconds(20), duration: .seconds(5))
        flooding.idPrefix = "flood"
        var calm = simulated.plan(agents: 50, windowInterval: .milliseconds(500), duration: .seconds(5))
        calm.idPrefix = "calm"
        let floodGenerator = try simulated.generator(flooding)
        let calmGenerator = try simulated.generator(calm)
        let (floodAgents, calmAgents) = (try floodGenerator.prepareAgents(), try calmGenerator.prepareAgents())
        async let floodRun = floodGenerator.run(floodAgents)
        async let calmRun = calmGenerator.run(calmAgents)
        let (flood, steady) = try await (floodRun, calmRun)
        print((flood.lines + steady.lines).joined(separator: "\n"))

        let exceeded = try await SystemTestSupport.metric(
            #"quantfleet_coordinator_agent_limit_exceeded_total{limit="bytes-per-second"}"#, port: metricsPort)
        XCTAssertGreaterThan(exceeded, 0, "the flooding agents met their byte rate")
        let log = try String(contentsOf: simulated.layout.log("coordinator"), encoding: .utf8)
        XCTAssertTrue(log.contains("reached its bytes-per-second limit"), "the coordinator logged the limit")

        XCTAssertEqual(flood.timeline.unackedAtEnd, 0, "slowed, not dropped: every flooding window acked in the end")
        XCTAssertEqual(steady.timeline.unackedAtEnd, 0)
        let floodP99 = try XCTUnwrap(flood.measurements.ackLatencyMillis.quantile(0.99))
        let calmP99 = try XCTUnwrap(steady.measurements.ackLatencyMillis.quantile(0.99))
        XCTAssertGreaterThan(floodP99, 1000, "the flooders' windows queued behind their limit")
        XCTAssertLessThan(calmP99, 1000, "the other agents' acks did not wait for the flooders")
    }
}
