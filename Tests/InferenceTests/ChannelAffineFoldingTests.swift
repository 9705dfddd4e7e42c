import Foundation
@testable import Inference
import ONNXRuntimeOracle
import ShadowEval
import XCTest

/// A Mul and an Add of per-channel (or scalar) constants behind a convolution fold into its weights
/// and bias at load, float and QDQ alike, and the results still match onnxruntime's; a constant that
/// broadcasts along another axis, or a convolution output read twice, keeps its node.
final class ChannelAffineFoldingTests: XCTestCase {
    private let (channels, size, filters) = (3, 7, 4)
    private var generator = SeededGenerator(seed: 23)

    private func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &generator) }
    }

    /// X -> [QDQ] Conv -> Mul(scale) -> Add(shift) -> Y, with `extraReader` reading the Conv's output too.
    private func model(quantized: Bool, scale: Tensor, shift: Tensor, extraReader: Bool = false) throws -> Data {
        var builder = ONNXModelBuilder()
        let weightCount = filters * channels * 9
        builder.initializers = ["scale": scale, "shift": shift, "b": Tensor(shape: [filters], floats: random(filters, -1...1))]
        if quantized {
            builder.initializers["x_scale"] = Tensor(shape: [], floats: [0.02])
            builder.initializers["x_zero"] = Tensor(shape: [], uint8s: [120])
            builder.initializers["w"] = Tensor(shape: [filters, channels, 3, 3], int8s: (0..<weightCount).map { _ in Int8.random(in: -127...127, using: &generator) })
            builder.initializers["w_scale"] = Tensor(shape: [], floats: [0.004])
            builder.initializers["w_zero"] = Tensor(shape: [], int8s: [0])
            builder.addNode("QuantizeLinear", name: "qx", inputs: ["X", "x_scale", "x_zero"], outputs: ["Xq"])
            builder.addNode("DequantizeLinear", name: "dqx", inputs: ["Xq", "x_scale", "x_zero"], outputs: ["Xd"])
            builder.addNode("DequantizeLinear", name: "dqw", inputs: ["w", "w_scale", "w_zero"], outputs: ["W"])
            builder.addNode("Conv", name: "conv", inputs: ["Xd", "W", "b"], outputs: ["C"])
        } else {
            builder.initializers["W"] = Tensor(shape: [filters, channels, 3, 3], floats: random(weightCount, -1...1))
            builder.addNode("Conv", name: "conv", inputs: ["X", "W", "b"], outputs: ["C"])
        }
        builder.addNode("Mul", name: "mul", inputs: ["scale", "C"], outputs: ["M"])
        builder.addNode("Add", name: "add", inputs: ["M", "shift"], outputs: ["Y"])
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, channels, size, size])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, filters, size - 2, size - 2])]
        if extraReader {
            builder.addNode("Relu", name: "relu", inputs: ["C"], outputs: ["R"])
            builder.outputs.append(TensorInfo(name: "R", elementType: .float32, shape: [nil, filters, size - 2, size - 2]))
        }
        return try builder.serialized()
    }

    /// The plan's operators, after checking every output against onnxruntime on the same file.
    private func operatorsMatchingOnnxruntime(_ model: Data) throws -> [String] {
        let session = try InferenceSession(modelData: model)
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("affine.onnx")
        try model.write(to: file)
        let x = Tensor(shape: [2, channels, size, size], floats: random(2 * channels * size * size, -2...2))
        let ours = try session.run(["X": x]), theirs = try ONNXRuntimeOracle.outputs(model: file, feeds: ["X": x])
        for (name, expected) in theirs {
            let actual = try XCTUnwrap(ours[name], name)
            XCTAssertEqual(actual.shape, expected.shape, name)
            XCTAssertLessThan(zip(actual.floats, expected.floats).map { abs($0 - $1) }.max() ?? 1, 1e-4, name)
        }
        return session.plan.steps.map(\.opType)
    }

    func testScalarMulAndPerChannelAddFoldIntoAFloatConv() throws {
        let model = try model(quantized: false, scale: Tensor(shape: [1], floats: [-1.7]),
                              shift: Tensor(shape: [1, filters, 1, 1], floats: random(filters, -1...1)))
        XCTAssertEqual(try operatorsMatchingOnnxruntime(model), ["Conv"])
    }

    func testPerChannelMulAndScalarAddFoldIntoAQDQConvsScales() throws {
        let model = try model(quantized: true, scale: Tensor(shape: [filters, 1, 1], floats: random(filters, 0.5...2)),
                              shift: Tensor(shape: [], floats: [0.3]))
        XCTAssertEqual(try operatorsMatchingOnnxruntime(model), ["QuantizeLinear", "ConvIntegerToFloat"])
    }

    func testAConstantAlongTheWidthStaysANode() throws {
        let model = try model(quantized: false, scale: Tensor(shape: [1, 1, 1, size - 2], floats: random(size - 2, 0.5...2)),
                              shift: Tensor(shape: [1], floats: [0.3]))
        XCTAssertEqual(try operatorsMatchingOnnxruntime(model), ["Conv", "Mul", "Add"])
    }

    func testAConvolutionOutputReadTwiceKeepsItsMap() throws {
        let model = try model(quantized: false, scale: Tensor(shape: [1], floats: [2]), shift: Tensor(shape: [1], floats: [0.3]),
                              extraReader: true)
        XCTAssertEqual(Set(try operatorsMatchingOnnxruntime(model)), ["Conv", "Mul", "Add", "Relu"])
    }
}
