import FleetProtocol
import Foundation
import Inference
import Ledger
import Operations
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Twelve real agents on two sites, one coordinator, the Fashion-MNIST fixture: a five-stage rollout
/// advances to promotion and is rolled back by pointer switch; a candidate with crushed weights
/// rolls back at its first stage; a model swapped in the coordinator's store and a manifest whose
/// signature was edited in the ledger are both refused by the agents and reported.
final class FleetRolloutTests: XCTestCase {
    private let agents = (1...12).map { "agent-\($0)" }
    private let stages = [5, 10, 25, 50, 100]

    func testFiveStagesOverTwelveAgentsPromoteRollBackAndRefuseBadModels() async throws {
        let metricsPort = try FreePort.allocate()
        let driver = try await RolloutDriver.start(
            "fleet-rollout", agents: agents, labels: { ["site": Self.site(of: $0), "device-class": "x86-dev"] },
            // A latency limit the INT8 candidate clears at once: every ship below waits for its clearance.
            policy: try RolloutDriver.loosePolicy("system-test-fleet", extra: "guards:\n  max-latency-ratio: 10"), for: self
        ) { settings in
            settings.metricsPort = metricsPort
            settings.maxConcurrentTransfers = 2
        }
        let fleet = driver.fleet
        let ledger = try Ledger(path: fleet.layout.ledger.path)
        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32")
        let candidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")

        // 1. Five stages, 1 -> 2 -> 3 -> 6 -> 12 agents, each gated on its own evidence, then promotion.
        let rollout = try driver.createAndStart(reference: reference, candidate: candidate, stages: stages)
        var traffic = driver.replayUntilStopped(agents)
        try await SystemTestSupport.eventually(timeout: .seconds(240), "the fifth stage ships and promotes") {
            try await driver.status(rollout).state == "promoted"
        }
        let promoted = try await driver.status(rollout)
        XCTAssertEqual(
            promoted.events.map { "\($0.actor) \($0.action)" },
            ["operator:admin create", "operator:admin start"] + Array(repeating: "controller advance", count: 4) + ["controller promote"])
        let joined = Dictionary(grouping: promoted.members, by: \.stage).mapValues(\.count)
        XCTAssertEqual(joined, [0: 1, 1: 1, 2: 1, 3: 3, 4: 6], "stages of 1, 2, 3, 6 and 12 agents, members sticky")
        let firstTwo = promoted.members.filter { $0.stage <= 1 }.map { Self.site(of: $0.agentID) }
        XCTAssertEqual(Set(firstTwo).count, 2, "the first two agents come from both sites")

        // Every agent now answers with the candidate and still shadows the resident reference.
        try await SystemTestSupport.eventually(timeout: .seconds(30), "all agents report the promotion") {
            try Set(ledger.servingChanges(ofRollout: rollout).filter { $0.mode == "promoted" }.map(\.agentID)).count == agents.count
        }
        try await assertServedVersion(candidate, fleet: fleet)
        await traffic.stop()

        // 2. The operator rolls back: a pointer switch on every agent, no model bytes sent.
        let pushedBefore = try await SystemTestSupport.metric("quantfleet_coordinator_model_bytes_pushed_total", port: metricsPort)
        XCTAssertGreaterThan(pushedBefore, 0)
        let rolledBack = try driver.cli(["rollout", "rollback", rollout, "--reason", "field reports from site north"])
        XCTAssertEqual(rolledBack.status, 0, rolledBack.output)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "all agents switch back to the reference") {
            try Set(ledger.servingChanges(ofRollout: rollout).filter { $0.mode == "rolled-back" }.map(\.agentID)).count == agents.count
        }
        let switches = try ledger.servingChanges(ofRollout: rollout).filter { $0.mode == "rolled-back" }
        XCTAssertTrue(switches.allSatisfy { !$0.loadedFromDisk }, "the reference was resident: \(switches)")
        let micros = switches.map(\.switchMicros).sorted()
        XCTAssertLessThan(micros.last!, 50_000, "rollback switch times (µs): \(micros)")
        print("rollback switch on \(micros.count) agents: median \(micros[micros.count / 2]) µs, max \(micros.last!) µs")
        try await assertServedVersion(reference, fleet: fleet)
        let pushedAfter = try await SystemTestSupport.metric("quantfleet_coordinator_model_bytes_pushed_total", port: metricsPort)
        XCTAssertEqual(pushedAfter, pushedBefore, "a rollback downloads nothing")
        let connected = try await SystemTestSupport.metric("quantfleet_coordinator_agents_connected", port: metricsPort)
        XCTAssertEqual(connected, Double(agents.count))
        let agentMetrics = try await SystemTestSupport.scrape(fleet.agentURLs["agent-1"]!.appendingPathComponent("metrics"))
        XCTAssertTrue(agentMetrics.contains("quantfleet_agent_requests_total"), agentMetrics)
        XCTAssertTrue(agentMetrics.contains("quantfleet_agent_serving_switch_seconds_count"), agentMetrics)

        // 3. A candidate whose weights were rounded to two bits fails its first stage.
        let crushed = fleet.layout.models.appendingPathComponent("mlp-2bit.onnx")
        try Self.crushWeights(of: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), to: crushed, bits: 2)
        let damaged = try driver.pushModel(crushed, precision: "int2")
        let failing = try driver.createAndStart(reference: reference, candidate: damaged, stages: stages)
        traffic = driver.replayUntilStopped(agents)
        try await SystemTestSupport.eventually(timeout: .seconds(120), "the damaged candidate is rolled back") {
            try await driver.status(failing).state == "rolled-back"
        }
        await traffic.stop()
        let failed = try await driver.status(failing)
        XCTAssertEqual(failed.stage, 0, "rolled back at the first stage")
        XCTAssertEqual(failed.members.count, 1)
        XCTAssertEqual(failed.decision?.outcome, "stay-fp16")
        XCTAssertEqual(failed.events.last?.actor, "controller")
        XCTAssertEqual(failed.events.last?.action, "roll-back")
        try await assertServedVersion(reference, fleet: fleet)

        // 4. A model file swapped in the coordinator's store: the agent downloads it three times,
        //    never loads it, and says so.
        let fp16 = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"), precision: "fp16")
        let stored = fleet.layout.coordinatorDirectory.appendingPathComponent("models/sha256/\(fp16)")
        var bytes = try Data(contentsOf: stored)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: stored)
        let tampered = try driver.createAndStart(reference: reference, candidate: fp16, stages: stages)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the agent reports the tampered model") {
            try await driver.status(tampered).events.contains { $0.action == "model-rejected" }
        }
        let rejection = try await driver.status(tampered).events.first { $0.action == "model-rejected" }!
        XCTAssertTrue(rejection.actor.hasPrefix("agent:"), rejection.actor)
        XCTAssertTrue(rejection.reason.contains("refused model \(fp16)") && rejection.reason.contains("3 times"), rejection.reason)
        XCTAssertEqual(try ledger.servingChanges(ofRollout: tampered).count, 0, "nothing was loaded")
        XCTAssertEqual(try driver.cli(["rollout", "abort", tampered, "--reason", "tampered store"]).status, 0)

        // 5. A manifest signature edited in the ledger: refused before any download.
        let edit = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [
            "-cmd", ".timeout 5000", fleet.layout.ledger.path, "UPDATE models SET signature = zeroblob(64) WHERE sha256 = '\(candidate)'",
        ])
        XCTAssertEqual(edit.status, 0, edit.output)
        let forged = try driver.createAndStart(reference: reference, candidate: candidate, stages: stages)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the agent reports the forged manifest") {
            try await driver.status(forged).events.contains { $0.action == "model-rejected" }
        }
        let forgery = try await driver.status(forged).events.first { $0.action == "model-rejected" }!
        XCTAssertTrue(forgery.reason.contains("does not verify with the coordinator's public key"), forgery.reason)
        let rejected = try await SystemTestSupport.metric("quantfleet_coordinator_models_rejected_total", port: metricsPort)
        XCTAssertGreaterThanOrEqual(rejected, 2)
    }

    func testBrokenLatencyAndMemoryGuardsRollBackAtTheFirstStage() async throws {
        // The INT8 candidate is about twice as fast and keeps about a fifth of the reference's bytes
        // resident here; demand ten and twenty times.
        let policy = try RolloutDriver.loosePolicy(
            "system-test-guard", extra: "guards:\n  max-latency-ratio: 0.1\n  max-memory-ratio: 0.05")
        let pair = ["agent-1", "agent-2"]
        let metricsPort = try FreePort.allocate()
        let driver = try await RolloutDriver.start("latency-guard", agents: pair, policy: policy, for: self) { settings in
            settings.metricsPort = metricsPort
        }
        let fleet = driver.fleet
        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32")
        let candidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")
        let rollout = try driver.createAndStart(reference: reference, candidate: candidate, stages: [50, 100])
        let traffic = driver.replayUntilStopped(pair)
        try await SystemTestSupport.eventually(timeout: .seconds(90), "the guard rolls the rollout back") {
            try await driver.status(rollout).state == "rolled-back"
        }
        await traffic.stop()
        let closed = try await driver.status(rollout)
        XCTAssertEqual(closed.stage, 0)
        let last = try XCTUnwrap(closed.events.last)
        XCTAssertEqual("\(last.actor) \(last.action)", "controller roll-back")
        XCTAssertTrue(last.reason.contains("guard broken: candidate latency is") && last.reason.contains("max-latency-ratio 0.1"), last.reason)
        XCTAssertTrue(last.reason.contains("(median per-request ratio, 95.00 % bounds ["), "the agents' per-request ratios: \(last.reason)")
        XCTAssertTrue(last.reason.contains("candidate memory is") && last.reason.contains("max-memory-ratio 0.05"), last.reason)

        let guardBreaks = try await SystemTestSupport.metric("quantfleet_coordinator_guard_breaks_total", port: metricsPort)
        XCTAssertGreaterThanOrEqual(guardBreaks, 2, "both guards broke")
        let stage = try await SystemTestSupport.metric("quantfleet_coordinator_rollout_stage{rollout=\"\(rollout)\"}", port: metricsPort)
        XCTAssertEqual(stage, 1)
        let collecting = try await SystemTestSupport.metric(
            "quantfleet_coordinator_rollout_collecting_seconds{rollout=\"\(rollout)\"}", port: metricsPort)
        XCTAssertEqual(collecting, 0, "decided")
        // The dashboard and the alerts name only metrics the daemons export, so they cannot drift.
        let exported = try await SystemTestSupport.scrape(URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!)
            + SystemTestSupport.scrape(fleet.agentURLs["agent-1"]!.appendingPathComponent("metrics"))
        let deploy = SystemTestSupport.packageRoot.appendingPathComponent("Deploy")
        for file in ["grafana/quantfleet.json", "prometheus/alerts.yaml"] {
            let text = try String(contentsOf: deploy.appendingPathComponent(file), encoding: .utf8)
            let named = Set(text.matches(of: /quantfleet_(?:coordinator|agent)_[a-z_]+/).map { String($0.output) })
            XCTAssertGreaterThanOrEqual(named.count, 7, file)
            for metric in named.sorted() {
                XCTAssertTrue(
                    exported.contains("\n\(metric){") || exported.contains("\n\(metric) "), "\(file) names \(metric), which no daemon exports")
            }
        }
    }

    /// Windows travel with their class breakdown; the policy judges each class with enough samples,
    /// records every judged slice with the decision, and `rollout status` shows them per stage.
    func testClassSlicesAreJudgedRecordedAndShown() async throws {
        let policy = try RolloutDriver.loosePolicy(
            "system-test-slices", extra: "slices:\n  dimensions: [class, device-class]\n  minimum-samples: 10")
        let pair = ["agent-1", "agent-2"]
        let driver = try await RolloutDriver.start(
            "slices", agents: pair, labels: { ["device-class": $0 == "agent-1" ? "pi5" : "jetson"] }, policy: policy, for: self)
        let fleet = driver.fleet
        let crushed = fleet.layout.models.appendingPathComponent("mlp-2bit.onnx")
        try Self.crushWeights(of: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), to: crushed, bits: 2)
        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32")
        let damaged = try driver.pushModel(crushed, precision: "int2")
        let rollout = try driver.createAndStart(reference: reference, candidate: damaged, stages: [100])
        // Both device classes must be shadowing before traffic starts: a round goes to the agents ready
        // at its start, and one agent alone can bring the 300 samples that decide (with one device
        // class, that dimension is the whole and is not judged).
        try await fleet.waitUntilReady(pair)
        let traffic = driver.replayUntilStopped(pair)
        try await SystemTestSupport.eventually(timeout: .seconds(90), "the rollout is decided") {
            try await driver.status(rollout).state == "rolled-back"
        }
        await traffic.stop()

        let closed = try await driver.status(rollout)
        let decision = try XCTUnwrap(closed.decision)
        let slices = decision.slices ?? []
        XCTAssertTrue(slices.contains { $0.slice.hasPrefix("class ") }, "\(slices)")
        XCTAssertTrue(slices.contains { $0.slice == "device-class pi5" } && slices.contains { $0.slice == "device-class jetson" })
        XCTAssertTrue(slices.allSatisfy { $0.n >= 10 }, "only slices with the policy's minimum are judged")
        XCTAssertEqual(decision.shipBelow, 0.05)
        XCTAssertEqual(decision.stayFP16Above, 0.2)

        let status = try driver.cli(["rollout", "status", rollout])
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("device-class pi5") && status.output.contains("stay-fp16 (> 20 %)"), status.output)

        // The class breakdowns add up to the windows they came from.
        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        let sums = try ledger.query("SELECT (SELECT SUM(samples) FROM window_classes), (SELECT SUM(count) FROM windows)").rows
        XCTAssertEqual(sums.first?.first, sums.first?.last)
        XCTAssertNotEqual(sums.first?.first, "0")
    }

    /// Every agent's OIP metadata names `sha256` as the model version it serves.
    private func assertServedVersion(_ sha256: String, fleet: LocalFleet) async throws {
        for agent in agents {
            let url = fleet.agentURLs[agent]!.appendingPathComponent("v2/models/\(SystemTestSupport.modelName)")
            let (data, _) = try await URLSession.shared.data(from: url)
            let metadata = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            XCTAssertEqual(metadata?["versions"] as? [String], [sha256], "\(agent) serves another model")
        }
    }

    /// A candidate broken on purpose: every weight matrix rounded to `bits` bits, symmetric per
    /// tensor, as a careless quantizer would.
    static func crushWeights(of source: URL, to destination: URL, bits: Int) throws {
        var model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: source))
        let levels = Float((1 << (bits - 1)) - 1)
        for index in model.graph.initializer.indices where model.graph.initializer[index].dims.count >= 2 {
            let tensor = try Tensor(onnxTensor: model.graph.initializer[index])
            let floats = tensor.floats
            let scale = (floats.map(abs).max() ?? 0) / levels
            let crushed = floats.map { scale == 0 ? 0 : min(levels, max(-levels, ($0 / scale).rounded())) * scale }
            model.graph.initializer[index] = Tensor(shape: tensor.shape, floats: crushed)
                .onnxTensor(named: model.graph.initializer[index].name)
        }
        try model.serializedData().write(to: destination)
    }

    /// Even agents are in the north, odd ones in the south.
    private static func site(of agentID: String) -> String {
        (Int(agentID.dropFirst("agent-".count)) ?? 0) % 2 == 0 ? "north" : "south"
    }
}
