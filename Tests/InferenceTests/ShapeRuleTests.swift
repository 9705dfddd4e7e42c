import Foundation
@testable import Inference
import XCTest

/// The operators' shape rules: what they work out at load, and the models they refuse at load
/// because their declared shapes can never fit. (The conformance suite holds every rule to its
/// kernel on every node test.)
final class ShapeRuleTests: XCTestCase {
    func testBroadcastingKeepsUnknownDimensionsAndRefusesSizesThatDiffer() throws {
        XCTAssertEqual(try StaticShapes.broadcast([[nil, 3], [1, 3]]), [nil, 3])
        XCTAssertEqual(try StaticShapes.broadcast([[nil, 1], [4]]), [nil, 4])
        XCTAssertEqual(try StaticShapes.broadcast([[2, 1, 5], [nil, 1]]), [2, nil, 5])
        XCTAssertNil(try StaticShapes.broadcast([[2, 3], nil]))
        XCTAssertThrowsError(try StaticShapes.broadcast([[2, 3], [4]])) { error in
            XCTAssertEqual("\(error)".contains("[2, 3] and [4] cannot be broadcast together"), true, "\(error)")
        }
    }

    func testMatMulPromotesVectorsAndChecksTheInnerDimension() throws {
        XCTAssertEqual(try StaticShapes.matmul([nil, 784], [784, 100]), [nil, 100])
        XCTAssertEqual(try StaticShapes.matmul([784], [784, 100]), [100])
        XCTAssertEqual(try StaticShapes.matmul([2, 1, 4, 8], [3, 8, 5]), [2, 3, 4, 5])
        XCTAssertEqual(try StaticShapes.matmul([4, 8], [8]), [4])
        XCTAssertThrowsError(try StaticShapes.matmul([1, 784], [100, 10]))
    }

    /// x [batch, 1, 28, 28] -> Conv 8x3x3 pads 1 -> MaxPool 2x2 stride 2 -> Flatten -> Gemm [1568, 10].
    private func convolutionalModel(gemmRows: Int) throws -> Data {
        var builder = ONNXModelBuilder()
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: [nil, 1, 28, 28])]
        builder.outputs = [TensorInfo(name: "logits", elementType: .float32, shape: [nil, 10])]
        builder.initializers["w"] = Tensor(shape: [8, 1, 3, 3], floats: Array(repeating: 0.1, count: 72))
        builder.initializers["fc"] = Tensor(shape: [gemmRows, 10], floats: Array(repeating: 0.01, count: gemmRows * 10))
        builder.addNode("Conv", name: "conv", inputs: ["x", "w"], outputs: ["c"], intListAttributes: ["pads": [1, 1, 1, 1]])
        builder.addNode("Relu", name: "relu", inputs: ["c"], outputs: ["r"])
        builder.addNode("MaxPool", name: "pool", inputs: ["r"], outputs: ["p"],
                        intListAttributes: ["kernel_shape": [2, 2], "strides": [2, 2]])
        builder.addNode("Flatten", name: "flatten", inputs: ["p"], outputs: ["f"])
        builder.addNode("Gemm", name: "fc", inputs: ["f", "fc"], outputs: ["logits"])
        return try builder.serialized()
    }

    func testShapesFollowTheGraphFromItsDeclaredInputs() throws {
        let session = try InferenceSession(modelData: convolutionalModel(gemmRows: 8 * 14 * 14))
        XCTAssertEqual(session.staticOutputShapes["logits"], [nil, 10])
        let result = try session.run(["x": Tensor(shape: [3, 1, 28, 28], floats: Array(repeating: 1, count: 3 * 784))])
        XCTAssertEqual(result["logits"]?.shape, [3, 10])
    }

    func testTheFixtureMLPsOutputsAreKnownBeforeItRuns() throws {
        let session = try InferenceSession(contentsOf: TestSupport.packageRoot.appendingPathComponent("Fixtures/fashion-mnist/mlp-fp32.onnx"))
        XCTAssertEqual(session.staticOutputShapes, ["label": [nil], "probabilities": [nil, 10]])
    }

    func testOperandsThatCanNeverFitRefuseTheModelAtLoadNamingTheNode() throws {
        XCTAssertThrowsError(try InferenceSession(modelData: convolutionalModel(gemmRows: 8 * 28 * 28))) { error in
            XCTAssertEqual("\(error)".contains("node 'fc' (Gemm) cannot fit the shapes the graph gives it: inner dimensions differ: "
                + "A' has 1568 columns, B' has 6272 rows"), true, "\(error)")
        }
    }

    func testAnOperatorWhoseShapeDependsOnValuesLeavesTheRestUnknown() throws {
        var builder = ONNXModelBuilder()
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: [4])]
        builder.outputs = [TensorInfo(name: "y", elementType: .int64, shape: [1, nil])]
        builder.addNode("NonZero", name: "nonzero", inputs: ["x"], outputs: ["i"])
        builder.addNode("Relu", name: "relu", inputs: ["i"], outputs: ["y"])
        builder.opsets = ["": 14]
        let session = try InferenceSession(modelData: try builder.serialized())
        XCTAssertNil(session.staticOutputShapes["y"])
    }
}
