import Foundation
@testable import Inference
import ONNXRuntimeOracle
import Quantization
import ShadowEval
import XCTest

/// int8-static quantizes the ops between quantized convolutions too: by default those that add no
/// rounding (max pooling, zero padding, ReLU as a clamp), with `--between-ops all` also those that
/// onnxruntime's quantizer requantizes (concatenations, residual adds, resizes), so that the graph
/// does not return to float at each of them.
final class IntegerRegionQuantizationTests: XCTestCase {
    /// A small CNN: conv, BatchNormalization, ReLU, max-pool; two branches (1x1 conv + ReLU, zero
    /// padding + 3x3 conv) concatenated; a 1x1 conv added back to the pooled input; ReLU, nearest
    /// resize, 1x1 conv, global pooling and a Gemm head.
    func testOpsBetweenQuantizedConvolutionsCarryQuantizedTensorsAndBothEnginesAgree() throws {
        let joined: [OpsBetweenQuantizedNodes: [String]] = [
            .none: [], .exact: ["r1", "pool", "pad"], .all: ["r1", "pool", "r2", "pad", "concat", "residual", "r3", "upsample"],
        ]
        for extent in OpsBetweenQuantizedNodes.allCases {
            try checkQuantizedBetweenConvolutions(extent: extent, joined: joined[extent]!)
        }
    }

    private func checkQuantizedBetweenConvolutions(extent: OpsBetweenQuantizedNodes, joined: [String]) throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededGenerator(seed: 11)
        func random(_ count: Int, scale: Float) -> [Float] { (0..<count).map { _ in Float.random(in: -scale...scale, using: &generator) } }
        func weights(_ shape: [Int]) -> Tensor {
            let fanIn = shape.dropFirst().reduce(1, *)
            return Tensor(shape: shape, floats: random(shape.reduce(1, *), scale: (6 / Float(fanIn)).squareRoot()))
        }
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "W1": weights([8, 3, 3, 3]), "W2": weights([8, 8, 1, 1]), "W3": weights([8, 8, 3, 3]),
            "W4": weights([8, 16, 1, 1]), "W5": weights([4, 8, 1, 1]), "Wh": weights([4, 4]), "bh": Tensor(shape: [4], floats: [0, 0, 0, 0]),
            "gamma": Tensor(shape: [8], floats: random(8, scale: 0.5).map { $0 + 1 }), "beta": Tensor(shape: [8], floats: random(8, scale: 0.2)),
            "mean": Tensor(shape: [8], floats: random(8, scale: 0.3)), "variance": Tensor(shape: [8], floats: random(8, scale: 0.5).map { $0 + 1 }),
            "pads": Tensor(shape: [8], int64s: [0, 0, 1, 1, 0, 0, 1, 1]),
            "scales": Tensor(shape: [4], floats: [1, 1, 2, 2]),
        ]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, 3, 8, 8])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, 4])]
        builder.addNode("Conv", name: "c1", inputs: ["X", "W1"], outputs: ["C1"], intListAttributes: ["pads": [1, 1, 1, 1]])
        builder.addNode("BatchNormalization", name: "bn1", inputs: ["C1", "gamma", "beta", "mean", "variance"], outputs: ["N1"])
        builder.addNode("Relu", name: "r1", inputs: ["N1"], outputs: ["R1"])
        builder.addNode("MaxPool", name: "pool", inputs: ["R1"], outputs: ["T"], intListAttributes: ["kernel_shape": [2, 2], "strides": [2, 2]])
        builder.addNode("Conv", name: "c2", inputs: ["T", "W2"], outputs: ["C2"])
        builder.addNode("Relu", name: "r2", inputs: ["C2"], outputs: ["A"])
        builder.addNode("Pad", name: "pad", inputs: ["T", "pads"], outputs: ["P"])
        builder.addNode("Conv", name: "c3", inputs: ["P", "W3"], outputs: ["B"])
        builder.addNode("Concat", name: "concat", inputs: ["A", "B"], outputs: ["C"], intAttributes: ["axis": 1])
        builder.addNode("Conv", name: "c4", inputs: ["C", "W4"], outputs: ["D"])
        builder.addNode("Add", name: "residual", inputs: ["D", "T"], outputs: ["E"])
        builder.addNode("Relu", name: "r3", inputs: ["E"], outputs: ["R3"])
        builder.addNode("Resize", name: "upsample", inputs: ["R3", "", "scales"], outputs: ["U"], stringAttributes: ["mode": "nearest"])
        builder.addNode("Conv", name: "c5", inputs: ["U", "W5"], outputs: ["F"])
        builder.addNode("GlobalAveragePool", name: "gap", inputs: ["F"], outputs: ["G"])
        builder.addNode("Flatten", name: "flatten", inputs: ["G"], outputs: ["H"])
        builder.addNode("Gemm", name: "head", inputs: ["H", "Wh", "bh"], outputs: ["Y"])
        let model = directory.appendingPathComponent("cnn.onnx"), output = directory.appendingPathComponent("cnn-int8.onnx")
        let calibration = directory.appendingPathComponent("calibration.npz")
        try builder.serialized().write(to: model)
        try NPZ.write(["X": Tensor(shape: [32, 3, 8, 8], floats: random(32 * 192, scale: 1))], to: calibration)

        let report = try ModelQuantizer.quantize(
            modelAt: model, to: output, options: QuantizationOptions(scheme: .int8Static, calibration: calibration, between: extent))
        XCTAssertEqual(report.quantizedNodes, ["c1", "c2", "c3", "c4", "c5"], "the head stays float: \(report.skippedNodes)")
        XCTAssertEqual(report.quantizedBetween.map(\.name), joined, "\(extent)")

        let quantized = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output)).graph
        let producers = Dictionary(quantized.node.flatMap { node in node.output.map { ($0, node.opType) } }, uniquingKeysWith: { first, _ in first })
        var readers: [String: [String]] = [:]
        for node in quantized.node { for input in node.input { readers[input, default: []].append(node.opType) } }
        XCTAssertFalse(quantized.node.contains { $0.opType == "BatchNormalization" }, "BatchNormalization folds into c1")
        XCTAssertEqual(quantized.node.filter { $0.opType == "Relu" }.map(\.name), ["r1", "r2", "r3"].filter { !joined.contains($0) },
                       "each joined ReLU is the clamp of the QuantizeLinear after it")
        for node in quantized.node where joined.contains(node.name) && node.opType != "Relu" {
            XCTAssertEqual(producers[node.input[0]], "DequantizeLinear", "\(node.name) reads a dequantized tensor")
            if node.opType == "Concat" || node.opType == "Add" { XCTAssertEqual(producers[node.input[1]], "DequantizeLinear", node.name) }
            // An op outside the region (the residual add, unless all ops join) reads the float value.
            let outside = extent == .all ? [] : readers[node.output[0], default: []].filter { $0 != "QuantizeLinear" }
            XCTAssertEqual(readers[node.output[0]], ["QuantizeLinear"] + outside, "\(node.name)'s output is quantized again")
        }

        let feeds = ["X": Tensor(shape: [4, 3, 8, 8], floats: random(4 * 192, scale: 1))]
        let ours = try XCTUnwrap(InferenceSession(contentsOf: output).run(feeds)["Y"]).floats
        let nodeByNode = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: feeds, nodeByNode: true)["Y"]).floats
        let fused = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: feeds)["Y"]).floats
        let float = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: model, feeds: feeds)["Y"]).floats
        XCTAssertGreaterThan(cosine(ours, nodeByNode), 0.9999, "\(extent): our engine computes what the file says")
        XCTAssertGreaterThan(cosine(ours, fused), 0.99, "\(extent): onnxruntime's integer kernels round at other points")
        XCTAssertGreaterThan(cosine(ours, float), 0.99, "\(extent): quantization error")
    }

    /// A graph from before opset 8 adds residuals with a two-input Sum; with `--between-ops all` the
    /// quantized file has an Add there, which onnxruntime fuses into QLinearAdd.
    func testTwoInputSumBetweenQuantizedConvolutionsBecomesAnAdd() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededGenerator(seed: 12)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 9]
        builder.initializers = ["W1": Tensor(shape: [4, 4, 1, 1], floats: random(16)), "W2": Tensor(shape: [4, 4, 1, 1], floats: random(16))]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, 4, 3, 3])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, 4, 3, 3])]
        builder.addNode("Relu", name: "in", inputs: ["X"], outputs: ["R"])
        builder.addNode("Conv", name: "c1", inputs: ["R", "W1"], outputs: ["C1"])
        builder.addNode("Sum", name: "sum", inputs: ["C1", "R"], outputs: ["S"])
        builder.addNode("Conv", name: "c2", inputs: ["S", "W2"], outputs: ["C2"])
        builder.addNode("Relu", name: "out", inputs: ["C2"], outputs: ["Y"])
        let model = directory.appendingPathComponent("sum.onnx"), output = directory.appendingPathComponent("sum-int8.onnx")
        let calibration = directory.appendingPathComponent("calibration.npz")
        try builder.serialized().write(to: model)
        try NPZ.write(["X": Tensor(shape: [16, 4, 3, 3], floats: random(16 * 36))], to: calibration)

        let report = try ModelQuantizer.quantize(
            modelAt: model, to: output, options: QuantizationOptions(scheme: .int8Static, calibration: calibration, between: .all))
        XCTAssertEqual(report.quantizedBetween.map(\.opType), ["Sum"])
        let nodes = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output)).graph.node
        XCTAssertEqual(nodes.filter { $0.name == "sum" }.map(\.opType), ["Add"])
        let feeds = ["X": Tensor(shape: [2, 4, 3, 3], floats: random(72))]
        let ours = try XCTUnwrap(InferenceSession(contentsOf: output).run(feeds)["Y"]).floats
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: feeds, nodeByNode: true)["Y"]).floats
        XCTAssertGreaterThan(cosine(ours, theirs), 0.9999)
    }
}
