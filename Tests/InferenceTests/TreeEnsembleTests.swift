import Foundation
import Inference
import XCTest

/// What the node tests and the classic-ML suite leave out: corrupt trees refused at load naming the
/// attribute, NaN routed by nodes_missing_value_tracks_true, and the two score columns onnxruntime
/// writes for a binary classifier whose weights name one class. Expected values are onnxruntime
/// 1.32's on the same models.
final class TreeEnsembleTests: XCTestCase {
    /// One tree per entry of `thresholds`: feature 0 <= threshold goes to leaf 1, else to leaf 2.
    private static func stumps(_ thresholds: [Float]) -> (ints: [String: [Int64]], floats: [String: [Float]], modes: [String]) {
        let trees = thresholds.indices.map(Int64.init)
        return (["nodes_treeids": trees.flatMap { [$0, $0, $0] }, "nodes_nodeids": trees.flatMap { _ in [0, 1, 2] },
                 "nodes_featureids": trees.flatMap { _ in [0, 0, 0] }, "nodes_truenodeids": trees.flatMap { _ in [1, 0, 0] },
                 "nodes_falsenodeids": trees.flatMap { _ in [2, 0, 0] }],
                ["nodes_values": thresholds.flatMap { [$0, 0, 0] }],
                thresholds.flatMap { _ in ["BRANCH_LEQ", "LEAF", "LEAF"] })
    }

    private func session(_ opType: String, ints: [String: [Int64]], floats: [String: [Float]], strings: [String: [String]],
                         int: [String: Int64] = [:], string: [String: String] = [:], outputs: [TensorInfo]) throws -> InferenceSession {
        var builder = ONNXModelBuilder()
        builder.opsets["ai.onnx.ml"] = 3
        builder.addNode(opType, domain: "ai.onnx.ml", name: "trees", inputs: ["X"], outputs: outputs.map(\.name),
                        intAttributes: int, intListAttributes: ints, floatListAttributes: floats,
                        stringAttributes: string, stringListAttributes: strings)
        builder.inputs = [TensorInfo(name: "X", elementType: .float32, shape: [nil, 1])]
        builder.outputs = outputs
        return try InferenceSession(modelData: builder.serialized())
    }

    private func regressor(_ ints: [String: [Int64]], _ floats: [String: [Float]], modes: [String], targets: Int64) throws -> InferenceSession {
        try session("TreeEnsembleRegressor", ints: ints, floats: floats, strings: ["nodes_modes": modes], int: ["n_targets": targets],
                    outputs: [TensorInfo(name: "Y", elementType: .float32, shape: [nil, Int(targets)])])
    }

    /// The attribute an `invalidAttribute` error names, or a failure.
    private func refusedAttribute(_ load: @autoclosure () throws -> InferenceSession) -> String? {
        do {
            _ = try load()
            XCTFail("the model loaded")
        } catch InferenceError.invalidAttribute(let node, let attribute, _) {
            XCTAssertEqual(node, "trees")
            return attribute
        } catch {
            XCTFail("expected an invalid attribute, got \(error)")
        }
        return nil
    }

    func testCorruptTreesAreRefusedAtLoadNamingTheAttribute() throws {
        let (ints, floats, modes) = Self.stumps([0.5])
        let leafWeights: [String: [Int64]] = ["target_treeids": [0, 0], "target_nodeids": [1, 2], "target_ids": [0, 0]]
        let weights: [String: [Float]] = ["target_weights": [0.3, 0.9]]
        var outOfRange = ints.merging(leafWeights) { $1 }
        outOfRange["nodes_truenodeids"] = [7, 0, 0]
        XCTAssertEqual(refusedAttribute(try regressor(outOfRange, floats.merging(weights) { $1 }, modes: modes, targets: 1)), "nodes_truenodeids")

        let shortValues = floats.merging(weights) { $1 }.merging(["nodes_values": [0.5, 0]]) { $1 }
        XCTAssertEqual(refusedAttribute(try regressor(ints.merging(leafWeights) { $1 }, shortValues, modes: modes, targets: 1)), "nodes_values")

        let shortWeights = floats.merging(["target_weights": [0.3]]) { $1 }
        XCTAssertEqual(refusedAttribute(try regressor(ints.merging(leafWeights) { $1 }, shortWeights, modes: modes, targets: 1)), "target_weights")

        var cycle = ints.merging(leafWeights) { $1 }
        cycle["nodes_falsenodeids"] = [0, 0, 0]
        XCTAssertEqual(refusedAttribute(try regressor(cycle, floats.merging(weights) { $1 }, modes: modes, targets: 1)),
                       "nodes_truenodeids/nodes_falsenodeids")
    }

    /// Tree 0 sends NaN to its true leaf (nodes_missing_value_tracks_true = 1), tree 1 to its false
    /// leaf; each writes its own target.
    func testNaNFollowsMissingValueTracksTrue() throws {
        var (ints, floats, modes) = Self.stumps([0.5, 0.5])
        ints["nodes_missing_value_tracks_true"] = [1, 0, 0, 0, 0, 0]
        ints.merge(["target_treeids": [0, 0, 1, 1], "target_nodeids": [1, 2, 1, 2], "target_ids": [0, 0, 1, 1]]) { $1 }
        floats["target_weights"] = [1, 2, 10, 20]
        let trees = try regressor(ints, floats, modes: modes, targets: 2)
        let y = try XCTUnwrap(trees.run(["X": Tensor(shape: [3, 1], floats: [.nan, 0.2, 0.8])])["Y"])
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(y.floats, [1, 20, 1, 10, 2, 20])
    }

    /// Weights for class 0 only, two labels: onnxruntime's binary case. With mixed-sign weights and
    /// LOGISTIC the columns are [logistic(-s), logistic(s)] and the label is positive when s > 0;
    /// with weights all >= 0 they are [1 - s, s] and the label is positive when s > 0.5.
    func testBinaryClassifierWritesBothColumns() throws {
        var (ints, floats, modes) = Self.stumps([0.5])
        ints.merge(["class_treeids": [0, 0], "class_nodeids": [1, 2], "class_ids": [0, 0], "classlabels_int64s": [0, 1]]) { $1 }
        floats.merge(["class_weights": [-0.75, 0.5], "base_values": [0.25]]) { $1 }
        let outputs = [TensorInfo(name: "label", elementType: .int64, shape: [nil]), TensorInfo(name: "scores", elementType: .float32, shape: [nil, 2])]
        let x = Tensor(shape: [3, 1], floats: [.nan, 0.2, 0.8])

        let boosted = try session("TreeEnsembleClassifier", ints: ints, floats: floats, strings: ["nodes_modes": modes],
                                  string: ["post_transform": "LOGISTIC"], outputs: outputs).run(["X": x])
        XCTAssertEqual(boosted["label"]?.int64s, [1, 0, 1])
        let logistic = try XCTUnwrap(boosted["scores"]).floats
        for (actual, expected) in zip(logistic, [0.3208213, 0.6791787, 0.62245935, 0.37754065, 0.3208213, 0.6791787] as [Float]) {
            XCTAssertEqual(actual, expected, accuracy: 1e-6)
        }

        ints["classlabels_int64s"] = nil
        floats = floats.merging(["class_weights": [0.25, 0.75]]) { $1 }.filter { $0.key != "base_values" }
        let voted = try session("TreeEnsembleClassifier", ints: ints, floats: floats,
                                strings: ["nodes_modes": modes, "classlabels_strings": ["no", "yes"]],
                                outputs: [TensorInfo(name: "label", elementType: .string, shape: [nil]), outputs[1]]).run(["X": x])
        XCTAssertEqual(voted["label"]?.strings, ["yes", "no", "yes"])
        XCTAssertEqual(voted["scores"]?.floats, [0.25, 0.75, 0.75, 0.25, 0.25, 0.75])
    }
}
