import Foundation
import Inference
import ONNXRuntimeOracle
import Operations
import Quantization
import XCTest

/// A detector registered with its box layout is judged on its boxes: the agents decode both models'
/// raw YOLOX rows, suppress overlaps and pair the boxes by class and IoU, so an INT8 copy whose boxes
/// barely move ships, and a candidate whose boxes move and change class is rolled back. The detector
/// (Tools/make-task-kind-fixtures.py) writes ddddocr's common_det.onnx layout on a 21-anchor grid.
final class DetectionRolloutTests: XCTestCase {
    func testAQuantizedDetectorShipsAndADamagedOneStaysFP16() async throws {
        let agents = ["agent-1"]
        let driver = try await RolloutDriver.start(
            "detection", agents: agents, policy: try RolloutDriver.loosePolicy("system-test-detection"), for: self)
        let fixture = try driver.makeTaskKindFixture("detector")
        let registration = ["--task", "detection", "--box-format", "yolox", "--min-iou", "0.5"]
        let reference = try driver.pushModel(fixture.appendingPathComponent("detector-fp32.onnx"), precision: "fp32", registration: registration)
        let int8 = fixture.appendingPathComponent("detector-int8.onnx")
        let candidate = try driver.pushModel(int8, precision: "int8", registration: registration)
        let damaged = try driver.pushModel(
            fixture.appendingPathComponent("detector-damaged.onnx"), precision: "int8", registration: registration)
        let listed = try driver.cli(["model", "list"])
        XCTAssertTrue(listed.output.contains("detection (yolox boxes scoring at least 0.25, NMS above IoU 0.45)"), listed.output)
        for (parameters, refusal) in [
            (["--box-format", "ssd"], "box-format ssd is invalid: one of yolo, yolox, xyxy-score-class"),
            (["--box-format", "yolo", "--min-iou", "1.5"], "min-iou 1.5 is invalid: in (0, 1]"),
            ([], "task detection needs box-format"),
            (["--box-format", "yolo", "--blank-index", "0"], "blank-index is not a parameter of task detection"),
        ] {
            let refused = try driver.cli(
                ["model", "push", int8.path, "--name", SystemTestSupport.modelName, "--precision", "int8", "--task", "detection"] + parameters)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.output.contains("400") && refused.output.contains(refusal), refused.output)
        }
        let traffic = fixture.appendingPathComponent("traffic.npz")

        // 1. Quantization moves each coordinate by a few hundredths of a cell: every box keeps its partner.
        let shipped = try await driver.rollOut(reference: reference, candidate: candidate, to: agents, data: traffic, until: "promoted")
        XCTAssertEqual(shipped.decision?.outcome, "ship")
        XCTAssertEqual(shipped.decision?.metric, "disagreement", "no labels for detection: the materially-different rate")
        XCTAssertLessThan(try XCTUnwrap(shipped.decision).statistic, 0.01, "hardly an image lost or gained a box")
        let status = try driver.cli(["rollout", "status", shipped.id])
        XCTAssertTrue(status.output.contains("task      detection (yolox boxes"), status.output)

        // 2. Boxes shifted by most of a cell and classes swapped: every image differs.
        let rolledBack = try await driver.rollOut(reference: reference, candidate: damaged, to: agents, data: traffic, until: "rolled-back")
        XCTAssertEqual(rolledBack.decision?.outcome, "stay-fp16")
        XCTAssertGreaterThan(try XCTUnwrap(rolledBack.decision).lowerBound, 0.5)
    }

    /// The zoo's real detector, ddddocr's YOLOX common_det.onnx at 416 x 416, on its real photos:
    /// our int8-static file (calibrated on the zoo's calibration photos) ships, and a copy calibrated
    /// on the same photos darkened to 5 % (night frames, day traffic: every activation range too
    /// narrow, so real inputs saturate) stays FP16.
    func testTheZooDetectorShipsQuantizedAndAMiscalibratedCopyStaysFP16() async throws {
        let detector = try XCTUnwrap(try ModelFixtures.zoo().first { $0.name == "ddddocr-det" })
        let agents = ["agent-1", "agent-2"]
        // Three photos replayed: a photo either keeps every box or not, so the bounds see 0 % or
        // at least a third; 100 samples decide either way, the reference and candidate of each
        // taking about a second in a debug build.
        let policy = try RolloutDriver.policy("system-test-zoo-detection", shipBelow: 0.1, stayFP16Above: 0.25, minimumSamples: 100)
        let driver = try await RolloutDriver.start("zoo-detection", agents: agents, policy: policy, for: self)
        let folder = driver.fleet.layout.models.appendingPathComponent("zoo-detector")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (int8, miscalibrated) = (folder.appendingPathComponent("int8.onnx"), folder.appendingPathComponent("miscalibrated.onnx"))
        _ = try ModelQuantizer.quantize(
            modelAt: detector.model, to: int8, options: QuantizationOptions(scheme: .int8Static, calibration: detector.calibration))
        let dark = folder.appendingPathComponent("dark.npz")
        try NPZ.write(try NPZ.read(contentsOf: detector.calibration).mapValues { Tensor(shape: $0.shape, floats: $0.floats.map { $0 * 0.05 }) }, to: dark)
        _ = try ModelQuantizer.quantize(modelAt: detector.model, to: miscalibrated, options: QuantizationOptions(scheme: .int8Static, calibration: dark))

        let registration = ["--task", "detection", "--box-format", "yolox", "--min-iou", "0.5"]
        let reference = try driver.pushModel(detector.model, precision: "fp32", registration: registration)
        let candidate = try driver.pushModel(int8, precision: "int8", registration: registration)
        let damaged = try driver.pushModel(miscalibrated, precision: "int8", registration: registration)
        let photos = detector.folder.appendingPathComponent("inputs.npz")

        let shipped = try await driver.rollOut(
            reference: reference, candidate: candidate, to: agents, data: photos, until: "promoted", timeout: .seconds(600))
        XCTAssertEqual(shipped.decision?.outcome, "ship")
        XCTAssertEqual(try XCTUnwrap(shipped.decision).statistic, 0, "every photo keeps its boxes")

        let rolledBack = try await driver.rollOut(
            reference: reference, candidate: damaged, to: agents, data: photos, until: "rolled-back", timeout: .seconds(600))
        XCTAssertEqual(rolledBack.decision?.outcome, "stay-fp16")
        XCTAssertGreaterThan(try XCTUnwrap(rolledBack.decision).lowerBound, 0.25)
    }
}
