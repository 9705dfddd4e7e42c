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

        let closed = try await driver.rollOut(
            reference: reference, candidate: candidate, to: agents, data: diabetes.appendingPathComponent("test.npz"), until: "rolled-back")
        let decision = try XCTUnwrap(closed.decision)
        XCTAssertEqual(decision.outcome, "stay-fp16")
        XCTAssertEqual(decision.metric, "disagreement", "no labels for a regression: the materially-different rate")
        XCTAssertGreaterThan(decision.lowerBound, 0.2)
    }

    /// A CTC recogniser that writes ddddocr's time-first [T, 1, C] layout (Tools/make-task-kind-fixtures.py)
    /// is judged on its greedily decoded text: its INT8 copy reads every text alike and ships; a
    /// candidate that swaps four characters reads most texts differently and stays on FP16.
    func testACTCRecogniserIsJudgedOnItsDecodedText() async throws {
        let agents = ["agent-1"]
        let driver = try await RolloutDriver.start(
            "ctc", agents: agents, policy: try RolloutDriver.loosePolicy("system-test-ctc"), for: self)
        let fixture = try driver.makeTaskKindFixture("recogniser")
        let registration = ["--task", "ctc", "--blank-index", "0"]
        let reference = try driver.pushModel(
            fixture.appendingPathComponent("recogniser-fp32.onnx"), precision: "fp32", registration: registration)
        let int8 = fixture.appendingPathComponent("recogniser-int8.onnx")
        let candidate = try driver.pushModel(int8, precision: "int8", registration: registration)
        let damaged = try driver.pushModel(
            fixture.appendingPathComponent("recogniser-damaged.onnx"), precision: "int8", registration: registration)
        let refused = try driver.cli([
            "model", "push", int8.path, "--name", SystemTestSupport.modelName, "--precision", "int8", "--task", "ctc",
            "--sequence-layout", "sideways",
        ])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("400") && refused.output.contains("sequence-layout sideways is invalid"), refused.output)
        let traffic = fixture.appendingPathComponent("traffic.npz")

        let shipped = try await driver.rollOut(reference: reference, candidate: candidate, to: agents, data: traffic, until: "promoted")
        XCTAssertEqual(shipped.decision?.outcome, "ship")
        XCTAssertEqual(shipped.decision?.statistic, 0, "INT8 reads every text as FP32 does")
        XCTAssertEqual(shipped.task, "ctc (greedy, blank 0, auto layout): decoded text differs")

        let rolledBack = try await driver.rollOut(reference: reference, candidate: damaged, to: agents, data: traffic, until: "rolled-back")
        XCTAssertEqual(rolledBack.decision?.outcome, "stay-fp16")
        XCTAssertGreaterThan(try XCTUnwrap(rolledBack.decision).lowerBound, 0.5, "about 89 % of the texts change")
    }
}
