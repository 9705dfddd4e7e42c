import Foundation
@testable import Inference
import ShadowEval
import XCTest

/// QuantizeLinear and DequantizeLinear, per tensor, per axis and per block, through a loaded model
/// (the ONNX node tests cover the operator documentation's examples).
final class QuantizeDequantizeTests: XCTestCase {
    /// x -> QuantizeLinear -> DequantizeLinear with the scales and zero points as initializers.
    private func roundTrip(_ x: Tensor, scale: Tensor, zeroPoint: Tensor, axis: Int64 = 1, blockSize: Int64 = 0,
                           opset: Int64 = 21) throws -> (quantized: Tensor, restored: Tensor) {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": opset]
        builder.initializers = ["scale": scale, "zero": zeroPoint]
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: x.shape.map { $0 })]
        builder.outputs = [TensorInfo(name: "q", elementType: zeroPoint.elementType, shape: x.shape.map { $0 }),
                           TensorInfo(name: "y", elementType: .float32, shape: x.shape.map { $0 })]
        let attributes = blockSize > 0 ? ["axis": axis, "block_size": blockSize] : ["axis": axis]
        builder.addNode("QuantizeLinear", name: "quantize", inputs: ["x", "scale", "zero"], outputs: ["q"], intAttributes: attributes)
        builder.addNode("DequantizeLinear", name: "dequantize", inputs: ["q", "scale", "zero"], outputs: ["y"], intAttributes: attributes)
        let outputs = try InferenceSession(modelData: builder.serialized()).run(["x": x])
        return (try XCTUnwrap(outputs["q"]), try XCTUnwrap(outputs["y"]))
    }

    func testPerTensorUInt8RoundsHalfToEvenAndSaturates() throws {
        let x = Tensor(shape: [6], floats: [0, 1, 3, 1000, -254, 5])
        let (quantized, restored) = try roundTrip(x, scale: Tensor(shape: [], floats: [2]), zeroPoint: Tensor(shape: [], uint8s: [128]), axis: 0)
        // 1 / 2 = 0.5 rounds to 0 and 3 / 2 = 1.5 to 2 (half to even); 1000 and -254 saturate.
        XCTAssertEqual(quantized, Tensor(shape: [6], uint8s: [128, 128, 130, 255, 1, 130]))
        XCTAssertEqual(restored.floats, [0, 0, 4, 254, -254, 4])
    }

    func testPerAxisInt8UsesEachChannelsScale() throws {
        var generator = SeededGenerator(seed: 11)
        let x = Tensor(shape: [2, 3, 4], floats: (0..<24).map { _ in Float.random(in: -4...4, using: &generator) })
        let scales: [Float] = [0.01, 0.05, 0.1]
        let (quantized, restored) = try roundTrip(x, scale: Tensor(shape: [3], floats: scales),
                                                  zeroPoint: Tensor(shape: [3], int8s: [0, -3, 7]))
        XCTAssertEqual(quantized.elementType, .int8)
        for (index, (value, back)) in zip(x.floats, restored.floats).enumerated() {
            let scale = scales[(index / 4) % 3]
            let level = Float(quantized.int64s[index])
            if level > -128 && level < 127 {
                XCTAssertEqual(back, value, accuracy: scale / 2 + 1e-6, "element \(index)")
            }
        }
    }

    func testBlockedQuantizationUsesOneScalePerBlock() throws {
        // Blocks of 2 along axis 1 of a [2, 4] tensor: scales [2, 2].
        let x = Tensor(shape: [2, 4], floats: [1, 2, 30, 40, -1, -2, -30, -40])
        let (quantized, restored) = try roundTrip(x, scale: Tensor(shape: [2, 2], floats: [1, 10, 1, 10]),
                                                  zeroPoint: Tensor(shape: [2, 2], int8s: [0, 0, 0, 0]), axis: 1, blockSize: 2)
        XCTAssertEqual(quantized, Tensor(shape: [2, 4], int8s: [1, 2, 3, 4, -1, -2, -3, -4]))
        XCTAssertEqual(restored.floats, x.floats)
    }

    func testMismatchedPerAxisScaleIsRejectedNamingTheShapes() throws {
        let x = Tensor(shape: [2, 3], floats: Array(repeating: 1, count: 6))
        XCTAssertThrowsError(try roundTrip(x, scale: Tensor(shape: [2], floats: [1, 1]), zeroPoint: Tensor(shape: [2], uint8s: [0, 0]))) { error in
            XCTAssertTrue("\(error)".contains("per-axis scale has 2 values, axis 1 of [2, 3] has 3"), "\(error)")
        }
    }
}
