import Foundation
import Inference
@testable import Quantization
import ONNXRuntimeOracle
import XCTest

/// int4-weight: blocked opset-21 DequantizeLinear that onnxruntime runs, and the block layout.
final class Int4WeightQuantizationTests: XCTestCase {
    func testFashionMNISTInt4RunsInOnnxruntimeAndIsAboutSixTimesSmaller() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (pixels, _) = try QuantizationFixtures.fashionRows(0..<500)
        let reference = try XCTUnwrap(ONNXRuntimeOracle.outputs(
            model: QuantizationFixtures.fashionModel, feeds: ["pixels": pixels])["label"])
        for blockSize in QuantizationOptions.supportedBlockSizes {
            let output = directory.appendingPathComponent("int4-\(blockSize).onnx")
            let report = try ModelQuantizer.quantize(
                modelAt: QuantizationFixtures.fashionModel, to: output, options: QuantizationOptions(scheme: .int4Weight, blockSize: blockSize))
            XCTAssertEqual(report.quantizedNodes, ["MatMul", "MatMul1", "MatMul2"])
            // 4 bits per weight plus one FP32 scale per block: 8x less the scales' share.
            XCTAssertGreaterThan(Double(report.bytesBefore) / Double(report.bytesAfter), blockSize == 32 ? 5.5 : 6.5)

            let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
            XCTAssertEqual(model.opsetImport.first { $0.domain.isEmpty }?.version, 21)
            let candidate = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["pixels": pixels])["label"])
            let agreement = Double(zip(reference.int64s, candidate.int64s).filter(==).count) / 500
            XCTAssertGreaterThanOrEqual(agreement, 0.95, "block size \(blockSize)")
        }
    }

    func testBlocksRunAlongTheReductionAxisAndPackLowNibbleFirst() {
        // [K = 3, N = 2] with blocks of 2 along K: scales [2, 2].
        let weights: [Float] = [7, -1, -7, 3.5, 3.5, 0]
        let quantized = SymmetricInt4BlockQuantization(weights, shape: [3, 2], blockAxis: 0, blockSize: 2)
        XCTAssertEqual(quantized.scaleShape, [2, 2])
        XCTAssertEqual(quantized.scales, [1, 0.5, 0.5, 1])
        XCTAssertEqual(quantized.values, [7, -2, -7, 7, 7, 0])
        let proto = quantized.onnxTensor(named: "w", shape: [3, 2])
        XCTAssertEqual(Array(proto.rawData), [0xE7, 0x79, 0x07])
    }
}
