import Foundation
import Operations
import Quantization
import XCTest

/// The task a model is registered with decides what "materially different" means on the agents.
/// A one-output regression model agrees with any candidate on "top-1" (there is one class), so only
/// its registered tolerance can catch an INT8 error, and it must.
final class TaskKindRolloutTests: XCTestCase {
    func testARegressionToleranceFromTheRegistrationJudgesTheCandidate() async throws {
        let agents = ["agent-1"]
        let driver = try await RolloutDriver.start(
            "regression", agents: agents, policy: try RolloutDriver.loosePolicy("system-test-regression"), for: self)
        let fleet = driver.fleet
        let diabetes = SystemTestSupport.packageRoot.appendingPathComponent("Fixtures/diabetes")
        let candidateFile = fleet.layout.models.appendingPathComponent("diabetes-int8.onnx")
        _ = try ModelQuantizer.quantize(
            modelAt: diabetes.appendingPathComponent("mlp-fp32.onnx"), to: candidateFile, scheme: .int8Dynamic)

        let reference = try driver.pushModel(
            diabetes.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32", registration: ["--task", "regression", "--absolute-tolerance", "0.001"])
        // An INT8 prediction within a thousandth of the FP32 one on raw targets of 25-346 is not to be had.
        let candidate = try driver.pushModel(
            candidateFile, precision: "int8", registration: ["--task", "regression", "--absolute-tolerance", "0.001"])
        let listed = try driver.cli(["model", "list"])
        XCTAssertTrue(listed.output.contains("regression: an output misses by more than 0.001"), listed.output)
        let refused = try driver.cli([
            "model", "push", candidateFile.path, "--name", SystemTestSupport.modelName, "--precision", "int8", "--task", "embedding",
        ])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("400") && refused.output.contains("task embedding needs min-cosine"), refused.output)

        let rollout = try driver.createAndStart(reference: reference, candidate: candidate, stages: [100])
        let traffic = driver.replayUntilStopped(agents, data: diabetes.appendingPathComponent("test.npz"))
        try await SystemTestSupport.eventually(timeout: .seconds(90), "the tolerance rolls the candidate back") {
            try await driver.status(rollout).state == "rolled-back"
        }
        await traffic.stop()
        let closed = try await driver.status(rollout)
        let decision = try XCTUnwrap(closed.decision)
        XCTAssertEqual(decision.outcome, "stay-fp16")
        XCTAssertEqual(decision.metric, "disagreement", "no labels for a regression: the materially-different rate")
        XCTAssertGreaterThan(decision.lowerBound, 0.2)
    }
}
