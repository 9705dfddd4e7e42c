import Foundation
@testable import Inference
import ONNXRuntimeOracle
import ShadowEval
import XCTest

/// Attention as transformer exports write it: heads split by Reshape + Transpose(0, 2, 1, 3) before
/// the products and joined by Transpose(0, 2, 1, 3) + Reshape after. The head Transposes run inside
/// the products (HeadMatMul), K's Transpose(0, 2, 3, 1) stays, and the outputs are onnxruntime's,
/// also when broadcast batches send a product back to the general MatMul.
final class HeadTransposeFusionTests: XCTestCase {
    private let (heads, width, sequence) = (3, 4, 5)

    func testHeadTransposesRunInsideTheProductsLikeOnnxruntime() throws {
        let model = try attentionModel()
        let session = try InferenceSession(modelData: model)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "HeadMatMul" }.count, 2, "\(operators)")
        XCTAssertEqual(operators.filter { $0 == "Transpose" }.count, 1, "only K's (0, 2, 3, 1) stays: \(operators)")
        XCTAssertFalse(operators.contains("MatMul"))

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("attention.onnx")
        try model.write(to: file)
        var generator = SeededGenerator(seed: 5)
        func activations(batch: Int) -> Tensor {
            let count = batch * sequence * heads * width
            return Tensor(shape: [batch, sequence, heads * width], floats: (0..<count).map { _ in Float.random(in: -2...2, using: &generator) })
        }
        // Equal batches (every product strided in place), then K and V of batch 1 broadcast against Q's 2.
        for (queries, keysAndValues) in [(2, 2), (2, 1)] {
            let feeds = ["Q": activations(batch: queries), "K": activations(batch: keysAndValues), "V": activations(batch: keysAndValues)]
            let ours = try XCTUnwrap(session.run(feeds)["Y"])
            let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: feeds)["Y"])
            XCTAssertEqual(ours.shape, [queries, sequence, heads * width])
            XCTAssertLessThan(TestSupport.maxRowRelativeError(ours, theirs), 1e-5, "batches \(queries) and \(keysAndValues)")
        }
    }

    /// With BERT's scaling and additive mask between the products, the whole chain is one
    /// HeadAttention, exact to the node-by-node graph and within onnxruntime's rounding of it.
    func testScaledMaskedAttentionRunsAsOneOperatorLikeOnnxruntime() throws {
        let model = try attentionModel(scaledAndMasked: true)
        let session = try InferenceSession(modelData: model)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "HeadAttention" }.count, 1, "\(operators)")
        XCTAssertTrue(Set(operators).isDisjoint(with: ["HeadMatMul", "MatMul", "Div", "Add", "Softmax"]), "\(operators)")

        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("attention.onnx")
        try model.write(to: file)
        var generator = SeededGenerator(seed: 9)
        func random(_ shape: [Int], _ range: ClosedRange<Float>) -> Tensor {
            Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &generator) })
        }
        // Per head in place (a mask per sequence, then one shared mask), then broadcast K and V (whole tensors).
        for (queries, keysAndValues, masks) in [(2, 2, 2), (3, 3, 1), (2, 1, 2)] {
            var mask = random([masks, 1, 1, sequence], -1...0)
            mask = Tensor(shape: mask.shape, floats: mask.floats.enumerated().map { $0.offset % 3 == 2 ? -10000 : $0.element })
            let feeds = ["Q": random([queries, sequence, heads * width], -2...2), "K": random([keysAndValues, sequence, heads * width], -2...2),
                         "V": random([keysAndValues, sequence, heads * width], -2...2), "M": mask]
            let ours = try XCTUnwrap(session.run(feeds)["Y"])
            let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: file, feeds: feeds)["Y"])
            XCTAssertEqual(ours.shape, [queries, sequence, heads * width])
            XCTAssertLessThan(TestSupport.maxRowRelativeError(ours, theirs), 1e-5, "batches \(queries), \(keysAndValues), mask \(masks)")
        }
    }

    func testATransposeWithAnotherReaderStays() throws {
        var builder = ONNXModelBuilder()
        builder.initializers = ["split": Tensor(shape: [4], int64s: [0, 0, Int64(heads), Int64(width)])]
        builder.inputs = [TensorInfo(name: "Q", elementType: .float32, shape: [nil, sequence, heads * width])]
        builder.outputs = ["S", "Qh"].map { TensorInfo(name: $0, elementType: .float32, shape: [nil, nil, nil, nil]) }
        builder.addNode("Reshape", name: "split_q", inputs: ["Q", "split"], outputs: ["Q4"])
        builder.addNode("Transpose", name: "heads_q", inputs: ["Q4"], outputs: ["Qh"], intListAttributes: ["perm": [0, 2, 1, 3]])
        builder.addNode("Transpose", name: "keys", inputs: ["Q4"], outputs: ["Qt"], intListAttributes: ["perm": [0, 2, 3, 1]])
        builder.addNode("MatMul", name: "scores", inputs: ["Qh", "Qt"], outputs: ["S"])
        let operators = try InferenceSession(modelData: builder.serialized()).plan.steps.map(\.opType)
        XCTAssertEqual(operators, ["Reshape", "Transpose", "Transpose", "MatMul"], "Qh is also a graph output")
    }

    /// Heads split and joined around softmax(Q K^T) V, or with BERT's softmax(Q K^T / 2 + mask) V.
    private func attentionModel(scaledAndMasked: Bool = false) throws -> Data {
        var builder = ONNXModelBuilder()
        builder.initializers = [
            "split": Tensor(shape: [4], int64s: [0, 0, Int64(heads), Int64(width)]),
            "join": Tensor(shape: [3], int64s: [0, 0, Int64(heads * width)]),
            "root": Tensor(shape: [], floats: [2]),
        ]
        builder.inputs = ["Q", "K", "V"].map { TensorInfo(name: $0, elementType: .float32, shape: [nil, sequence, heads * width]) }
            + (scaledAndMasked ? [TensorInfo(name: "M", elementType: .float32, shape: [nil, 1, 1, sequence])] : [])
        builder.outputs = [TensorInfo(name: "Y", elementType: .float32, shape: [nil, sequence, heads * width])]
        for name in ["Q", "K", "V"] {
            builder.addNode("Reshape", name: "split_\(name)", inputs: [name, "split"], outputs: ["\(name)4"])
        }
        builder.addNode("Transpose", name: "heads_q", inputs: ["Q4"], outputs: ["Qh"], intListAttributes: ["perm": [0, 2, 1, 3]])
        builder.addNode("Transpose", name: "keys_t", inputs: ["K4"], outputs: ["Kt"], intListAttributes: ["perm": [0, 2, 3, 1]])
        builder.addNode("Transpose", name: "heads_v", inputs: ["V4"], outputs: ["Vh"], intListAttributes: ["perm": [0, 2, 1, 3]])
        builder.addNode("MatMul", name: "scores", inputs: ["Qh", "Kt"], outputs: ["S"])
        if scaledAndMasked {
            builder.addNode("Div", name: "scale", inputs: ["S", "root"], outputs: ["Sd"])
            builder.addNode("Add", name: "mask", inputs: ["Sd", "M"], outputs: ["Sm"])
        }
        builder.addNode("Softmax", name: "weights", inputs: [scaledAndMasked ? "Sm" : "S"], outputs: ["P"], intAttributes: ["axis": -1])
        builder.addNode("MatMul", name: "context", inputs: ["P", "Vh"], outputs: ["O"])
        builder.addNode("Transpose", name: "join_heads", inputs: ["O"], outputs: ["Ot"], intListAttributes: ["perm": [0, 2, 1, 3]])
        builder.addNode("Reshape", name: "join", inputs: ["Ot", "join"], outputs: ["Y"])
        return try builder.serialized()
    }
}
