import Foundation
import Inference
import XCTest

final class ModelLoadingTests: XCTestCase {
    func testUnknownOperatorIsRefusedAtLoadWithItsNames() throws {
        var builder = ONNXModelBuilder()
        builder.opsets["com.example"] = 3
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: [2])]
        builder.outputs = [TensorInfo(name: "y", elementType: .float32, shape: [2])]
        builder.addNode("FancyOp", domain: "com.example", name: "mystery_node", inputs: ["x"], outputs: ["y"])
        XCTAssertThrowsError(try InferenceSession(modelData: builder.serialized())) { error in
            XCTAssertEqual(error as? InferenceError,
                           .unsupportedOperator(opType: "FancyOp", domain: "com.example", node: "mystery_node", opset: 3))
            let message = String(describing: error)
            for part in ["FancyOp", "com.example", "mystery_node", "opset 3"] {
                XCTAssertTrue(message.contains(part), "\(message) should name \(part)")
            }
        }
    }

    func testTruncatedModelIsRefused() throws {
        let model = try Data(contentsOf: TestSupport.fp32Model)
        XCTAssertThrowsError(try InferenceSession(modelData: model.prefix(model.count / 3))) { error in
            guard case .malformedModel? = error as? InferenceError else {
                return XCTFail("expected malformedModel, got \(error)")
            }
        }
        XCTAssertThrowsError(try InferenceSession(modelData: Data()))
    }

    func testMissingModelFileNamesThePath() {
        XCTAssertThrowsError(try InferenceSession(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx"))) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/model.onnx"))
        }
    }

    func testFixtureSignatureAndFeedChecks() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        XCTAssertEqual(session.inputs, [TensorInfo(name: "pixels", elementType: .float32, shape: [nil, 784])])
        XCTAssertEqual(Set(session.outputs.map(\.name)), ["label", "probabilities"])
        XCTAssertTrue(["avx512-vnni", "avx2", "scalar"].contains(session.kernelPath))
        XCTAssertThrowsError(try session.run(["pixels": Tensor(shape: [1, 784], uint8s: Array(repeating: 0, count: 784))])) {
            XCTAssertEqual($0 as? InferenceError, .feedTypeMismatch(name: "pixels", expected: .float32, actual: .uint8))
        }
        XCTAssertThrowsError(try session.run(["pixels": Tensor(shape: [1, 10], floats: Array(repeating: 0, count: 10))]))
        XCTAssertThrowsError(try session.run([:])) { XCTAssertEqual($0 as? InferenceError, .missingFeed("pixels")) }
    }
}
