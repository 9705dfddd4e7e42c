import FleetProtocol
import Foundation
import Ledger
import Operations
import Quantization
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two agents serve two model names at once, a Fashion-MNIST classifier and a diabetes regression
/// model, each in a staged rollout of its own started together: the classifier's INT8 candidate
/// ships through both stages, the regression model's is rolled back at its first. Then a memory
/// budget set to what the two names hold refuses a third name's assignment, and the rollout
/// records why.
final class SeveralModelsTests: XCTestCase {
    private let agents = ["agent-1", "agent-2"]
    private let classifier = SystemTestSupport.modelName
    private let regression = "diabetes"

    func testOneAgentServesTwoModelsInTwoRolloutsOneShippedOneRolledBack() async throws {
        let driver = try await RolloutDriver.start(
            "several-models", agents: agents, policy: try RolloutDriver.loosePolicy("system-test-several-models"), for: self)
        let fleet = driver.fleet
        let ledger = try Ledger(path: fleet.layout.ledger.path)
        let diabetes = SystemTestSupport.packageRoot.appendingPathComponent("Fixtures/diabetes")
        let regressionCandidate = fleet.layout.models.appendingPathComponent("diabetes-int8.onnx")
        _ = try ModelQuantizer.quantize(
            modelAt: diabetes.appendingPathComponent("mlp-fp32.onnx"), to: regressionCandidate, scheme: .int8Dynamic)
        let tolerance = ["--task", "regression", "--absolute-tolerance", "0.001"]

        let classifierReference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32")
        let classifierCandidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")
        let regressionReference = try driver.pushModel(
            diabetes.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32", name: regression, registration: tolerance)
        let regressionInt8 = try driver.pushModel(regressionCandidate, precision: "int8", name: regression, registration: tolerance)

        // Both rollouts start together on the same two agents: each model name has its own.
        let shipping = try driver.createAndStart(reference: classifierReference, candidate: classifierCandidate, stages: [50, 100])
        let failing = try driver.createAndStart(
            reference: regressionReference, candidate: regressionInt8, stages: [50, 100], modelName: regression)
        let listed = try driver.cli(["agents", "list"])
        XCTAssertTrue(listed.output.contains("\(classifier)=\(shipping)"), listed.output)
        XCTAssertTrue(listed.output.contains("\(regression)=\(failing)"), listed.output)

        let classifierTraffic = driver.replayUntilStopped(agents)
        let regressionTraffic = driver.replayUntilStopped(agents, data: diabetes.appendingPathComponent("test.npz"), model: regression)
        try await SystemTestSupport.eventually(timeout: .seconds(240), "one rollout promotes and the other rolls back") {
            let states = (try await driver.status(shipping).state, try await driver.status(failing).state)
            return states == ("promoted", "rolled-back")
        }
        await classifierTraffic.stop()
        await regressionTraffic.stop()

        let shipped = try await driver.status(shipping)
        XCTAssertEqual(shipped.events.map(\.action), ["create", "start", "advance", "promote"])
        XCTAssertEqual(shipped.members.count, 2)
        let rolledBack = try await driver.status(failing)
        XCTAssertEqual(rolledBack.stage, 0, "rolled back at its first stage")
        XCTAssertEqual(rolledBack.decision?.outcome, "stay-fp16")
        XCTAssertEqual(rolledBack.decision?.metric, "disagreement")
        // The regression rollout's first-stage agent shadowed both names at once.
        let both = try XCTUnwrap(rolledBack.members.first?.agentID)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "\(both) reports both outcomes") {
            try ledger.servingChanges(ofRollout: shipping).contains { $0.agentID == both && $0.mode == "promoted" }
                && ledger.servingChanges(ofRollout: failing).contains { $0.agentID == both && $0.mode == "rolled-back" }
        }
        let url = try XCTUnwrap(fleet.agentURLs[both])
        try await assertServes(url, classifier, version: classifierCandidate)
        try await assertServes(url, regression, version: regressionReference)
        let idle = try driver.cli(["agents", "list"])
        XCTAssertFalse(idle.output.contains("\(classifier)="), "no open rollouts left: \(idle.output)")

        // A budget of exactly what the two names hold (promoted: the candidate and the resident
        // reference) keeps both through a restart, and leaves no room for a third name.
        let resident = try await SystemTestSupport.metric("quantfleet_agent_model_bytes_resident", port: try XCTUnwrap(url.port))
        XCTAssertGreaterThan(resident, 0)
        let budget = Int(resident)
        let config = fleet.layout.agentConfig(both)
        try (String(contentsOf: config, encoding: .utf8) + "model-memory-budget-bytes: \(budget)\n")
            .write(to: config, atomically: true, encoding: .utf8)
        _ = await fleet.agents[both]!.stop()
        try fleet.startAgent(both)
        try await fleet.waitUntilReady([both])
        try await SystemTestSupport.eventually(timeout: .seconds(30), "\(both) loads both names again") {
            try await SystemTestSupport.metric("quantfleet_agent_model_bytes_resident", port: try XCTUnwrap(url.port)) == resident
        }
        try await assertServes(url, classifier, version: classifierCandidate)
        try await assertServes(url, regression, version: regressionReference)

        let int4 = fleet.layout.models.appendingPathComponent("mlp-int4.onnx")
        _ = try ModelQuantizer.quantize(
            modelAt: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), to: int4, scheme: .int4Weight)
        let twin = "fashion-mnist-twin"
        let twinReference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"), precision: "fp16", name: twin)
        let twinCandidate = try driver.pushModel(int4, precision: "int4", name: twin)
        let overBudget = try driver.createAndStart(reference: twinReference, candidate: twinCandidate, stages: [100], modelName: twin)
        try await SystemTestSupport.eventually(timeout: .seconds(60), "\(both) refuses the third name's assignment") {
            try await driver.status(overBudget).events.contains { $0.action == "model-rejected" && $0.actor == "agent:\(both)" }
        }
        let refusal = try await driver.status(overBudget).events.first { $0.action == "model-rejected" && $0.actor == "agent:\(both)" }!
        XCTAssertTrue(refusal.reason.contains("over the agent's memory budget"), refusal.reason)
        XCTAssertTrue(refusal.reason.contains("hold \(budget), and model-memory-budget-bytes is \(budget)"), refusal.reason)
        XCTAssertEqual(try ledger.servingChanges(ofRollout: overBudget).filter { $0.agentID == both }.count, 0, "nothing of it serves")
        try await assertServes(url, classifier, version: classifierCandidate)
        let unknown = try await URLSession.shared.data(from: url.appendingPathComponent("v2/models/\(twin)"))
        XCTAssertEqual((unknown.1 as? HTTPURLResponse)?.statusCode, 404)
        XCTAssertTrue(String(decoding: unknown.0, as: UTF8.self).contains("this agent serves 'diabetes', 'fashion-mnist-mlp'"))
    }

    /// The model's metadata names the version that answers.
    private func assertServes(_ agent: URL, _ model: String, version: String) async throws {
        let (data, _) = try await URLSession.shared.data(from: agent.appendingPathComponent("v2/models/\(model)"))
        let metadata = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
        XCTAssertEqual(metadata["versions"] as? [String], [version], "\(agent) serves another \(model)")
    }
}
