import Foundation
@testable import Inference
import ONNXRuntimeOracle
import XCTest

/// onnxruntime's com.microsoft operators, in the files its own tools write (quantize_static's
/// QOperator format, MatMulNBitsQuantizer, quantize_dynamic's DynamicQuantizeLSTM, the transformer
/// optimizer's fusions) and in hand-written graphs of each operator's variants, give onnxruntime's
/// outputs on the same files and inputs: quantized levels exactly, floats at the node tests' tolerance.
final class MicrosoftOperatorModelTests: XCTestCase {
    /// Models Tools/make-microsoft-op-fixtures.py writes: fewer means one was lost.
    static let suiteSize = 65

    func testEveryMicrosoftOperatorModelMatchesOnnxruntime() throws {
        try assertEveryModelMatchesOnnxruntime(in: try ModelFixtures.microsoftOperatorSuite(), size: Self.suiteSize, name: "com.microsoft operator models")
    }

    func testMalformedAttributesAreRefusedAtLoadNamingTheAttribute() throws {
        // MatMulNBits of K = 32, N = 4 in one block of 32: 16 bytes a column at 4 bits.
        func matMulNBits(bits: Int64, blockSize: Int64) -> ONNXModelBuilder {
            var builder = ONNXModelBuilder()
            builder.opsets = ["": 17, "com.microsoft": 1]
            builder.inputs = [TensorInfo(name: "a", elementType: .float32, shape: [1, 32])]
            builder.outputs = [TensorInfo(name: "y", elementType: .float32, shape: [1, 4])]
            builder.initializers = ["b": Tensor(shape: [4, 1, 16], uint8s: Array(repeating: 0x98, count: 64)),
                                    "scales": Tensor(shape: [4], floats: [0.1, 0.2, 0.3, 0.4])]
            builder.addNode("MatMulNBits", domain: "com.microsoft", name: "weights", inputs: ["a", "b", "scales"], outputs: ["y"],
                            intAttributes: ["K": 32, "N": 4, "bits": bits, "block_size": blockSize])
            return builder
        }
        XCTAssertNoThrow(try InferenceSession(modelData: matMulNBits(bits: 4, blockSize: 32).serialized()))
        for (builder, attribute) in [(matMulNBits(bits: 3, blockSize: 32), "bits"), (matMulNBits(bits: 4, blockSize: 24), "block_size")] {
            XCTAssertThrowsError(try InferenceSession(modelData: builder.serialized())) { error in
                XCTAssertTrue("\(error)".contains(attribute), "\(error)")
            }
        }

        var pool = ONNXModelBuilder()
        pool.opsets = ["": 17, "com.microsoft": 1]
        pool.inputs = [TensorInfo(name: "x", elementType: .uint8, shape: [1, 2, 4, 4])]
        pool.outputs = [TensorInfo(name: "y", elementType: .uint8, shape: [nil, nil, nil, nil])]
        pool.initializers = ["scale": Tensor(shape: [], floats: [0.1]), "zero": Tensor(shape: [], uint8s: [128])]
        pool.addNode("QLinearAveragePool", domain: "com.microsoft", name: "pool", inputs: ["x", "scale", "zero", "scale", "zero"], outputs: ["y"])
        XCTAssertThrowsError(try InferenceSession(modelData: pool.serialized())) { error in
            XCTAssertTrue("\(error)".contains("kernel_shape"), "\(error)")
        }
    }

    /// The 256-entry table of QLinearSigmoid holds MLAS's rational logistic, which stays within
    /// 1e-6 of the exact function (so a level moves only at a rounding tie) and is 0 below -18.
    func testMLASLogisticAndTanhStayCloseToTheExactFunctions() {
        for x in stride(from: Float(-20), through: 20, by: 0.125) {
            XCTAssertEqual(MLASFunctions.logistic(x), 1 / (1 + exp(-x)), accuracy: 1e-6, "logistic(\(x))")
            XCTAssertEqual(MLASFunctions.tanh(x), tanh(x), accuracy: 2e-6, "tanh(\(x))")
        }
    }
}
