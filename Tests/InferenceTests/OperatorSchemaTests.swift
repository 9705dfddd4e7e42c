import Foundation
@testable import Inference
import XCTest

/// ONNX's schemas hold: a node its model's opset does not define is refused at load, and an operand
/// of a type its version does not allow is refused at run, naming both.
final class OperatorSchemaTests: XCTestCase {
    private func model(_ opType: String, opset: Int64, type: ElementType) throws -> Data {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": opset]
        builder.inputs = [TensorInfo(name: "x", elementType: type, shape: [2])]
        builder.outputs = [TensorInfo(name: "y", elementType: type, shape: [2])]
        builder.addNode(opType, name: "node", inputs: ["x"], outputs: ["y"])
        return try builder.serialized()
    }

    func testAnOperatorNewerThanTheModelsOpsetIsRefusedAtLoad() throws {
        XCTAssertThrowsError(try InferenceSession(modelData: model("Gelu", opset: 13, type: .float32))) { error in
            XCTAssertEqual("\(error)", "node 'node': operator 'Gelu' does not exist in opset 13 of ai.onnx (it was added in opset 20)")
        }
        XCTAssertNoThrow(try InferenceSession(modelData: model("Gelu", opset: 20, type: .float32)))
    }

    func testAnOperandTypeTheVersionDoesNotAllowIsRefusedNamingBoth() throws {
        // Relu took integers from opset 14 on.
        let old = try InferenceSession(modelData: model("Relu", opset: 13, type: .int32))
        XCTAssertThrowsError(try old.run(["x": Tensor(shape: [2], int32s: [-1, 2])])) { error in
            XCTAssertTrue("\(error)".contains("input 0 is int32; Relu-13 takes bfloat16, float16, float32, float64"), "\(error)")
        }
        let new = try InferenceSession(modelData: model("Relu", opset: 14, type: .int32))
        XCTAssertEqual(try new.run(["x": Tensor(shape: [2], int32s: [-1, 2])])["y"], Tensor(shape: [2], int32s: [0, 2]))
    }

    func testEveryRegisteredONNXOperatorHasASchema() {
        for opType in ["Relu", "LSTM", "If", "SequenceAt", "ImageDecoder", "Attention", "LinearAttention"] {
            XCTAssertNotNil(OperatorSchema.versions[OperatorKey(domain: "", opType: opType)], opType)
        }
        XCTAssertNotNil(OperatorSchema.versions[OperatorKey(domain: "ai.onnx.preview", opType: "FlexAttention")])
    }
}
