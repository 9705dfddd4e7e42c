import Foundation
@testable import Inference
import ONNXRuntimeOracle
import ShadowEval
import XCTest

/// A Conv followed by Relu, Clip or LeakyRelu runs as one FusedConv that applies the activation as
/// the product leaves each tile, with onnxruntime's outputs; a convolution whose output is read
/// elsewhere too, or is a graph output, keeps its separate activation.
final class ConvActivationFusionTests: XCTestCase {
    private let (channels, filters, size) = (3, 5, 11)

    /// Conv (3x3, padded, with bias) -> `activation` -> Y, the Conv's output also a graph output when `observed`.
    private func model(activation: String, observed: Bool = false, readTwice: Bool = false) throws -> Data {
        var builder = ONNXModelBuilder()
        var generator = SeededGenerator(seed: 17)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -0.5...0.5, using: &generator) })
        }
        builder.opsets = ["": 13]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [2, channels, size, size])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [2, filters, size, size])]
        builder.initializers = ["W": random([filters, channels, 3, 3]), "B": random([filters]),
                                "low": Tensor(shape: [], floats: [-0.2]), "high": Tensor(shape: [], floats: [0.3])]
        builder.addNode("Conv", name: "conv", inputs: ["X", "W", "B"], outputs: ["C"], intListAttributes: ["pads": [1, 1, 1, 1]])
        switch activation {
        case "Clip": builder.addNode("Clip", name: "act", inputs: ["C", "low", "high"], outputs: ["A"])
        case "LeakyRelu": builder.addNode("LeakyRelu", name: "act", inputs: ["C"], outputs: ["A"], floatAttributes: ["alpha": 0.2])
        default: builder.addNode(activation, name: "act", inputs: ["C"], outputs: ["A"])
        }
        if readTwice {
            builder.addNode("Add", name: "sum", inputs: ["A", "C"], outputs: ["Y"])
        } else {
            builder.addNode("Identity", name: "out", inputs: ["A"], outputs: ["Y"])
        }
        if observed { builder.outputs.append(TensorInfo(name: "C", elementType: .float32, shape: [2, filters, size, size])) }
        return try builder.serialized()
    }

    private func assertMatchesOnnxruntime(_ model: Data, _ session: InferenceSession, _ label: String) throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("conv.onnx")
        try model.write(to: file)
        var generator = SeededGenerator(seed: 3)
        let count = 2 * channels * size * size
        let feeds = ["X": Tensor(shape: [2, channels, size, size], floats: (0..<count).map { _ in Float.random(in: -2...2, using: &generator) })]
        let ours = try XCTUnwrap(session.run(feeds)["Y"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: feeds)["Y"])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(ours, theirs), 1e-5, label)
    }

    func testConvThenActivationRunsAsOneFusedConvLikeOnnxruntime() throws {
        for activation in ["Relu", "Clip", "LeakyRelu"] {
            let model = try model(activation: activation)
            let session = try InferenceSession(modelData: model)
            let operators = session.plan.steps.map(\.opType)
            XCTAssertEqual(operators, ["FusedConv", "Identity"], activation)
            try assertMatchesOnnxruntime(model, session, activation)
        }
    }

    func testAConvOutputReadElsewhereKeepsItsActivation() throws {
        for (observed, readTwice) in [(true, false), (false, true)] {
            let model = try model(activation: "Relu", observed: observed, readTwice: readTwice)
            let session = try InferenceSession(modelData: model)
            let operators = session.plan.steps.map(\.opType)
            XCTAssertEqual(Array(operators.prefix(2)), ["Conv", "Relu"], "observed \(observed), read twice \(readTwice)")
            try assertMatchesOnnxruntime(model, session, "observed \(observed), read twice \(readTwice)")
        }
    }

    /// Clip with a bound that is not a constant cannot be folded into the convolution.
    func testClipWithARuntimeBoundStaysSeparate() throws {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 13]
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [1, 1, 4, 4]),
                          TensorInfo(name: "high", elementType: .float32, shape: [])]
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [1, 1, 4, 4])]
        builder.initializers = ["W": Tensor(shape: [1, 1, 1, 1], floats: [2])]
        builder.addNode("Conv", name: "conv", inputs: ["X", "W"], outputs: ["C"])
        builder.addNode("Clip", name: "act", inputs: ["C", "", "high"], outputs: ["Y"])
        let session = try InferenceSession(modelData: try builder.serialized())
        XCTAssertEqual(session.plan.steps.map(\.opType), ["Conv", "Clip"])
        let y = try XCTUnwrap(session.run(["X": Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map(Float.init)),
                                           "high": Tensor(shape: [], floats: [7])])["Y"])
        XCTAssertEqual(y.floats, (0..<16).map { min(Float($0) * 2, 7) })
    }
}
