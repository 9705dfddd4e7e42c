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
}
