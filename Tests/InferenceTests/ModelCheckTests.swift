import Foundation
import Inference
import Quantization
import XCTest

/// `quantfleet check`'s report: every node and element type the engine cannot run, at once.
final class ModelCheckTests: XCTestCase {
    func testEveryUnsupportedNodeAndTypeIsListedAtOnce() throws {
        var model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: TestSupport.fp32Model))
        model.graph.node[0].opType = "Frobnicate"
        model.graph.node[0].domain = "com.example"
        model.graph.node[2].opType = "Transmogrify"
        model.opsetImport.append(.with {
            $0.domain = "com.example"
            $0.version = 3
        })
        model.graph.initializer.append(.with {
            $0.name = "phases"
            $0.dataType = Int32(Onnx_TensorProto.DataType.complex64.rawValue)
            $0.dims = [1]
            $0.floatData = [1, 0]
        })
        let check = try ModelCheck(modelData: model.serializedBytes())
        XCTAssertFalse(check.canRun)
        XCTAssertEqual(check.unsupportedNodes.map(\.opType), ["Frobnicate", "Transmogrify"])
        XCTAssertEqual(check.unsupportedNodes.first?.domain, "com.example")
        XCTAssertEqual(check.unsupportedNodes.first?.opset, 3)
        XCTAssertEqual(check.unsupportedElementTypes.map(\.typeName), ["complex64"])
        XCTAssertEqual(check.problems.count, 3, "\(check.problems)")
        XCTAssertTrue(check.elementTypes.contains("float32") && check.elementTypes.contains("complex64"), "\(check.elementTypes)")
    }

    func testARunnableModelLoadsAndNamesItsOpsetsTypesAndSchemes() throws {
        let data = try Data(contentsOf: TestSupport.fp32Model)
        let check = try ModelCheck(modelData: data)
        XCTAssertTrue(check.canRun, "\(check.problems)")
        XCTAssertTrue(check.problems.isEmpty)
        XCTAssertEqual(check.elementTypes, ["float32", "int32", "int64"], "the MLP's logits, and its int64 argmax and int32 labels")
        XCTAssertTrue(check.unsupportedElementTypes.isEmpty)
        XCTAssertNotNil(check.opsets[""])
        let schemes = ModelQuantizer.applicability(to: try Onnx_ModelProto(serializedBytes: data))
        XCTAssertEqual(schemes.map(\.scheme), QuantizationScheme.allCases)
        XCTAssertTrue(schemes.allSatisfy(\.applies), "\(schemes.map(\.reason))")
        XCTAssertEqual(schemes.first { $0.scheme == .int8Dynamic }?.quantizableNodes, 3, "the MLP's three weighted layers")
    }

    func testBytesThatAreNotAModelAreRefusedWithAReason() {
        XCTAssertThrowsError(try ModelCheck(modelData: Data([0xFF, 0x00, 0x13]))) { error in
            XCTAssertTrue("\(error)".contains("not a readable ONNX protobuf"), "\(error)")
        }
    }
}
