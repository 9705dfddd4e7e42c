import Foundation
import Inference
import Quantization
import ONNXRuntimeOracle
import XCTest

final class ModelQuantizerTests: XCTestCase {
    func testInt8DynamicQuantizesEveryMatMulPerChannel() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("int8.onnx")
        let report = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: output, scheme: .int8Dynamic)
        XCTAssertEqual(report.quantizedNodes, ["MatMul", "MatMul1", "MatMul2"])
        XCTAssertEqual(report.skippedNodes, [])
        XCTAssertFalse(report.widenedFromFloat16)
        XCTAssertLessThan(report.bytesAfter, report.bytesBefore / 3)

        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        XCTAssertFalse(model.graph.node.contains { $0.opType == "MatMul" })
        let zeroPoints = model.graph.initializer.first { $0.name == "MatMul_weight_zero_point" }
        let zeroPoint = try Tensor(onnxTensor: try XCTUnwrap(zeroPoints))
        XCTAssertEqual(zeroPoint.elementType, .int8)
        XCTAssertEqual(zeroPoint.shape, [256])
        XCTAssertTrue(zeroPoint.int64s.allSatisfy { $0 == 0 })
    }

    func testFP16ModelIsWidenedThenQuantizedAndRunsInOnnxruntime() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("int8-from-fp16.onnx")
        let report = try ModelQuantizer.quantize(modelAt: TestSupport.fp16Model, to: output, scheme: .int8Dynamic)
        XCTAssertTrue(report.widenedFromFloat16)
        XCTAssertEqual(report.quantizedNodes.count, 3)

        let pixels = try TestSupport.trafficPixels(rows: 200)
        let ours = try XCTUnwrap(InferenceSession(contentsOf: output).run(["pixels": pixels])["label"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["pixels": pixels])["label"])
        let agreement = zip(ours.int64s, theirs.int64s).filter(==).count
        XCTAssertGreaterThanOrEqual(Double(agreement) / 200, 0.995)
    }

    func testUnreadableInputNamesThePath() {
        let missing = URL(fileURLWithPath: "/nonexistent/in.onnx")
        XCTAssertThrowsError(try ModelQuantizer.quantize(modelAt: missing, to: missing, scheme: .int8Dynamic)) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/in.onnx"))
        }
    }

    /// A MatMul whose input carries an additive -10000 mask stays float in int8-static (one uint8
    /// step of that range is about 40, larger than every ordinary value); its unmasked sibling is
    /// quantized.
    func testInt8StaticKeepsAMatMulOverAMaskedInputInFloat() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (rows, width) = (16, 8)
        var generator = SeededGenerator(seed: 7)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "mask": Tensor(shape: [width], floats: (0..<width).map { $0 < 6 ? 0 : -10000 }),
            "W1": Tensor(shape: [width, width], floats: random(width * width)),
            "W2": Tensor(shape: [width, width], floats: random(width * width)),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, width])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, width])]
        builder.addNode("Add", name: "masked", inputs: ["X", "mask"], outputs: ["M"])
        builder.addNode("MatMul", name: "over_mask", inputs: ["M", "W1"], outputs: ["H"])
        builder.addNode("Relu", name: "relu", inputs: ["X"], outputs: ["R"])
        builder.addNode("MatMul", name: "unmasked", inputs: ["R", "W2"], outputs: ["P"])
        builder.addNode("Add", name: "sum", inputs: ["H", "P"], outputs: ["S"])
        builder.addNode("Softmax", name: "softmax", inputs: ["S"], outputs: ["Y"])
        let model = directory.appendingPathComponent("masked.onnx"), calibration = directory.appendingPathComponent("calibration.npz")
        try builder.serialized().write(to: model)
        try NPZ.write(["X": Tensor(shape: [rows, width], floats: random(rows * width))], to: calibration)

        let report = try ModelQuantizer.quantize(
            modelAt: model, to: directory.appendingPathComponent("int8.onnx"),
            options: QuantizationOptions(scheme: .int8Static, calibration: calibration))
        XCTAssertEqual(report.quantizedNodes, ["unmasked"], "\(report.skippedNodes)")
        let kept = try XCTUnwrap(report.skippedNodes.first { $0.name == "over_mask" })
        XCTAssert(kept.reason.contains("a mask?"), kept.reason)
    }
}
