import Agent
import FleetProtocol
import Foundation
import Ledger
import Operations
import XCTest

/// Operators drive a staged rollout through the admin API with the real CLI, over real processes:
/// an agent certificate is refused, the rollout grows 25 % -> 50 % -> 100 % of four agents on two
/// sites on the Fashion-MNIST fixture, the coordinator is killed mid-rollout and resumes the same
/// stage with the same agents, the last stage's `ship` promotes the candidate; then overlapping
/// rollouts, an unforced promotion and an abort. The policy evaluates at a cadence (every 5 windows
/// or 500 ms), and the running totals still equal their windows after the kill.
final class StagedRolloutTests: XCTestCase {
    private let agents = (1...4).map { "agent-\($0)" }

    func testStagedRolloutSurvivesACoordinatorKillPromotesAndRefusesOverlaps() async throws {
        let driver = try await RolloutDriver.start(
            "staged", agents: agents, labels: { ["site": Self.site(of: $0)] },
            policy: try RolloutDriver.loosePolicy("system-test-stages", extra: "evaluation:\n  every-windows: 5\n  every-ms: 500"),
            for: self)
        let fleet = driver.fleet

        // An agent's certificate comes from the same CA, but is not an operator's.
        let refused = try driver.cli(["agents", "list"], as: "agents/agent-1")
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("403") && refused.output.contains("not an operator certificate"), refused.output)

        let listed = try driver.cli(["agents", "list"])
        XCTAssertEqual(listed.status, 0, listed.output)
        XCTAssertTrue(listed.output.contains("site=north") && listed.output.contains("site=south"), listed.output)

        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32")
        let candidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")
        let rolloutID = try driver.createAndStart(reference: reference, candidate: candidate, stages: [25, 50, 100])
        let status = { try await driver.status(rolloutID) }
        let firstStage = try await status()
        XCTAssertEqual(firstStage.members.count, 1, "25 % of four agents is one")

        // Stage 1 ships, stage 2 begins; traffic stops before the kill so that nothing moves meanwhile.
        var traffic = driver.replayUntilStopped(agents)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the rollout reaches its second stage") {
            try await status().stage == 1
        }
        await traffic.stop()
        // Windows still in flight would move the rollout after the restart: let every spool drain
        // (the last partial windows are sealed by age, 300 ms) before taking the reference state.
        try await Task.sleep(for: .seconds(1))
        let spools = try agents.map { try WindowSpool(path: fleet.layout.spool($0).path) }
        try await SystemTestSupport.eventually(timeout: .seconds(15), "every sealed window acknowledged") {
            try spools.allSatisfy { try $0.pending().isEmpty }
        }
        let beforeKill = try await status()
        let stageSizes = [1, 2, 4]  // 25 %, 50 %, 100 % of four agents, rounded up
        XCTAssertEqual(beforeKill.members.count, stageSizes[try XCTUnwrap(beforeKill.stage)])
        XCTAssertEqual(Set(beforeKill.members.filter { $0.stage <= 1 }.map { Self.site(of: $0.agentID) }).count, 2, "spread over both sites")

        fleet.coordinator?.kill()
        try fleet.restartCoordinator()
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the restarted coordinator answers") {
            (try? await status()) != nil
        }
        let afterRestart = try await status()
        XCTAssertEqual(afterRestart.stage, beforeKill.stage, "the same stage after the restart")
        XCTAssertEqual(afterRestart.members, beforeKill.members, "the same agents after the restart")
        XCTAssertEqual(afterRestart.state, "running")

        traffic = driver.replayUntilStopped(agents)
        try await SystemTestSupport.eventually(timeout: .seconds(90), "the last stage ships and promotes") {
            try await status().state == "promoted"
        }
        await traffic.stop()
        let promoted = try await status()
        XCTAssertEqual(promoted.outcome, "ship")
        XCTAssertEqual(promoted.members.map(\.stage).sorted(), [0, 1, 2, 2], "sticky: earlier members stay as the stage grows")
        XCTAssertEqual(
            promoted.events.map { "\($0.actor) \($0.action)" },
            ["operator:admin create", "operator:admin start", "controller advance", "controller advance", "controller promote"])
        XCTAssertEqual(promoted.decision?.stage, 2)
        XCTAssertEqual(promoted.decision?.outcome, "ship")

        let table = try driver.cli(["rollout", "status", rolloutID])
        XCTAssertEqual(table.status, 0, table.output)
        XCTAssertTrue(table.output.contains("state promoted") && table.output.contains("controller"), table.output)

        // The cadence: far fewer decision rows than windows; and nothing the kill interrupted left
        // the running totals apart from the windows.
        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        let windows = try XCTUnwrap(Int(ledger.query("SELECT COUNT(*) FROM windows").rows[0][0]))
        let decisions = try XCTUnwrap(Int(ledger.query("SELECT COUNT(*) FROM decisions WHERE rollout_id = '\(rolloutID)'").rows[0][0]))
        XCTAssertLessThan(decisions, windows, "\(decisions) decision rows for \(windows) windows")
        let verify = try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent("quantfleet"), ["ledger", "verify", "--db", fleet.layout.ledger.path])
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertTrue(verify.output.hasPrefix("ok: the running totals equal their windows"), verify.output)

        // Operators next: an agent shadows one rollout at a time, promotion needs --force, and
        // abort records who and why.
        let second = try driver.createAndStart(reference: reference, candidate: candidate, stages: [25, 50, 100])
        let fp16 = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"), precision: "fp16")
        let overlapping = try driver.cli([
            "rollout", "create", "--model-name", SystemTestSupport.modelName, "--reference", reference, "--candidate", fp16, "--json",
        ])
        let third = try RolloutDriver.decoder.decode(AdminAPI.Rollout.self, from: Data(overlapping.output.utf8)).id
        let refusedStart = try driver.cli(["rollout", "start", third])
        XCTAssertNotEqual(refusedStart.status, 0)
        XCTAssertTrue(refusedStart.output.contains("409") && refusedStart.output.contains("is already in open rollout \(second)"), refusedStart.output)
        let unforced = try driver.cli(["rollout", "promote", second, "--reason", "looks fine"])
        XCTAssertNotEqual(unforced.status, 0)
        XCTAssertTrue(unforced.output.contains("409") && unforced.output.contains("force"), unforced.output)
        let aborted = try driver.cli(["rollout", "abort", second, "--reason", "superseded", "--json"])
        XCTAssertEqual(aborted.status, 0, aborted.output)
        let abortedRollout = try RolloutDriver.decoder.decode(AdminAPI.Rollout.self, from: Data(aborted.output.utf8))
        XCTAssertEqual(abortedRollout.state, "aborted")
        XCTAssertEqual(abortedRollout.events.last.map { "\($0.actor) \($0.action) \($0.reason)" }, "operator:admin abort superseded")
        let nowFree = try driver.cli(["rollout", "start", third])
        XCTAssertEqual(nowFree.status, 0, nowFree.output)
    }

    /// Even agents are in the north, odd ones in the south.
    private static func site(of agentID: String) -> String {
        (Int(agentID.dropFirst("agent-".count)) ?? 0) % 2 == 0 ? "north" : "south"
    }
}
