import FleetProtocol
import Foundation
import Ledger
import Operations
import XCTest

/// TUF's freshness rules end to end: a real coordinator signs assignments, a real agent process
/// takes them over real mutual TLS through an `InterceptingRelay` (an attacker holding the
/// coordinator's TLS key but not its signing key), and the relay replays what it captured.
final class AssignmentReplayTests: XCTestCase {
    /// Captures the agent's signed shadow assignment, lets the coordinator promote, then replays the
    /// captured one: refused as an older version, also first thing after the agent restarts (the
    /// version is on disk), and refused as expired once its lifetime has passed. Each refusal is
    /// reported and lands in the rollout's history; the agent keeps serving the promoted candidate.
    func testReplayedAssignmentsAreRefusedAndRecordedAcrossARestartAndAfterExpiry() async throws {
        let lifetime = 30_000
        let adminPort = try FreePort.allocate()
        let policy = try RolloutDriver.loosePolicy("replay")
        let fleet = try await SystemTestSupport.startFleet("replay", certified: ["agent-1"], running: [], for: self) {
            $0.opensRollout = false
            $0.adminPort = adminPort
            $0.policy = policy
            $0.assignmentLifetimeMillis = lifetime
        }
        let relay = try await InterceptingRelay.start(layout: fleet.layout, agent: "agent-1", coordinatorPort: fleet.coordinatorPort, for: self)
        fleet.coordinatorPort = relay.port
        try fleet.startAgent("agent-1")
        let driver = try RolloutDriver(fleet: fleet, adminPort: adminPort)
        try await driver.waitForAgents(1)
        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"), precision: "fp16")
        let candidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")
        let rollout = try driver.createAndStart(reference: reference, candidate: candidate, stages: [100])

        let shadow = try await relay.captured { $0.mode == .shadow }
        XCTAssertTrue(shadow.hasSigned, "the coordinator signs what it sends")
        try await fleet.waitUntilReady(["agent-1"])
        let promote = try driver.cli(["rollout", "promote", rollout, "--force", "--reason", "replay test"])
        XCTAssertEqual(promote.status, 0, promote.output)
        let promoted = try await relay.captured { $0.mode == .promoted }
        XCTAssertGreaterThan(promoted.version, shadow.version, "one counter: the promotion has a higher version")
        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "agent-1 serves the promoted candidate") {
            try ledger.query("SELECT count(*) FROM serving_changes WHERE mode = 'promoted'").rows == [["1"]]
        }

        func refusals() throws -> [String] {
            try ledger.query("SELECT actor, reason FROM rollout_events WHERE action = 'assignment-refused' ORDER BY id").rows.map {
                XCTAssertEqual($0[0], "agent:agent-1")
                return $0[1]
            }
        }
        try await relay.replay(shadow)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the replay is refused and recorded") { try refusals().count == 1 }
        let afterPromotion = try refusals()
        XCTAssertTrue(afterPromotion[0].contains("has version \(shadow.version), below version \(promoted.version)"), "\(afterPromotion)")

        await fleet.agents["agent-1"]?.stop()
        relay.replayOnNextWelcome(shadow)
        try fleet.startAgent("agent-1")
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the replay after a restart is refused") { try refusals().count == 2 }
        let afterRestart = try refusals()
        XCTAssertTrue(afterRestart[1].contains("below version \(promoted.version)"), "the accepted version survived the restart: \(afterRestart)")
        try await fleet.waitUntilReady(["agent-1"])

        let expiresAt = Date(timeIntervalSince1970: Double(shadow.expiresAtMs) / 1000)
        try await Task.sleep(for: .milliseconds(max(0, Int(expiresAt.timeIntervalSinceNow * 1000)) + 200))
        try await relay.replay(shadow)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the expired replay is refused") { try refusals().count == 3 }
        let afterExpiry = try refusals()
        XCTAssertTrue(afterExpiry[2].contains("version \(shadow.version) expired at"), "\(afterExpiry)")

        XCTAssertEqual(
            try ledger.query("SELECT mode FROM serving_changes ORDER BY id").rows, [["promoted"], ["promoted"]],
            "no replay changed what serves (the restart served the promotion again)")
        XCTAssertTrue(relay.reports.allSatisfy { $0.event == .refused })
        try fleet.checkAlive()
    }

    /// Cut off from the coordinator past its assignment's lifetime, the agent keeps serving; once
    /// it reconnects it reports the expiry, which lands in the rollout's history.
    func testAnAgentCutOffPastItsMetadataExpiryKeepsServingAndReportsItOnReconnecting() async throws {
        let fleet = try await SystemTestSupport.startFleet("expiry", certified: ["agent-1"], running: [], for: self) {
            $0.assignmentLifetimeMillis = 3_000
        }
        let relay = try await InterceptingRelay.start(layout: fleet.layout, agent: "agent-1", coordinatorPort: fleet.coordinatorPort, for: self)
        fleet.coordinatorPort = relay.port
        let agent = try fleet.startAgent("agent-1")
        try await fleet.waitUntilReady(["agent-1"])

        relay.cutOff()
        try await Task.sleep(for: .seconds(5))
        let servingWhileCutOff = await HealthProbe.isReady(agent)
        XCTAssertTrue(servingWhileCutOff, "a model already serving keeps serving when its metadata expires")
        relay.reconnect()

        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the expiry is reported and recorded") {
            try ledger.query("SELECT count(*) FROM rollout_events WHERE action = 'metadata-expired-while-serving'").rows == [["1"]]
        }
        let reason = try ledger.query("SELECT reason FROM rollout_events WHERE action = 'metadata-expired-while-serving'").rows[0][0]
        XCTAssertTrue(reason.contains("while the coordinator was out of reach; the agent kept serving it"), reason)
        XCTAssertEqual(relay.reports.map(\.event), [.expiredWhileServing])
        try fleet.checkAlive()
    }
}
