import Foundation
@testable import Inference
import ONNXRuntimeOracle
import XCTest

/// The classic-ML models users bring (scikit-learn pipelines, LightGBM, XGBoost, converted by
/// skl2onnx and onnxmltools, and hand-written graphs of the ai.onnx.ml operators no converter
/// emits) give onnxruntime's outputs on the same files and held-out rows, at the node tests' tolerance.
final class ClassicMLModelTests: XCTestCase {
    /// Models Tools/make-classic-ml-fixtures.py writes: fewer means one was lost.
    static let suiteSize = 26

    func testEveryClassicMLModelMatchesOnnxruntime() throws {
        try assertEveryModelMatchesOnnxruntime(in: try ModelFixtures.classicMLSuite(), size: Self.suiteSize, name: "classic-ML models")
    }

    /// ZipMap's sequence of maps is an output the Open Inference Protocol cannot carry: the session
    /// runs it, and declares it so, which is what the agent refuses an assignment by.
    func testZipMapGivesASequenceOfMapsDeclaredAsSuch() throws {
        let model = try ModelFixtures.classicMLSuite().appendingPathComponent("test_logistic-regression-zipmap-iris/model.onnx")
        let session = try InferenceSession(contentsOf: model)
        let probabilities = try XCTUnwrap(session.outputs.first { $0.container == .mapSequence })
        XCTAssertEqual(probabilities.keyType, .int64)
        let rows = Tensor(shape: [2, 4], floats: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3])
        let results = try session.run(values: ["X": .tensor(rows)])
        guard case .maps(let maps)? = results[probabilities.name] else { return XCTFail("\(String(describing: results[probabilities.name]))") }
        XCTAssertEqual(maps.count, 2)
        XCTAssertEqual(maps[0].keys, Tensor(shape: [3], int64s: [0, 1, 2]))
        XCTAssertEqual(maps[0].values.floats.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertThrowsError(try session.run(["X": rows])) { error in
            XCTAssertTrue("\(error)".contains("is a sequence of maps: run the session with run(values:)"), "\(error)")
        }
    }

    func testAMapKeepsOneEntryPerKeyInKeyOrder() throws {
        let map = try TensorMap(keys: Tensor(shape: [4], strings: ["b", "a", "b", "c"]), values: Tensor(shape: [4], floats: [1, 2, 3, 4]))
        XCTAssertEqual(map.keys, Tensor(shape: [3], strings: ["a", "b", "c"]))
        XCTAssertEqual(map.values, Tensor(shape: [3], floats: [2, 3, 4]))
        XCTAssertThrowsError(try TensorMap(keys: Tensor(shape: [1], floats: [1]), values: Tensor(shape: [1], floats: [1])))
    }

    func testMalformedAttributesAreRefusedAtLoadNamingTheAttribute() throws {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 17, "ai.onnx.ml": 1]
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: [nil, 3])]
        builder.outputs = [TensorInfo(name: "label", elementType: .int64, shape: [nil]), TensorInfo(name: "scores", elementType: .float32, shape: [nil, 2])]
        builder.addNode("LinearClassifier", domain: "ai.onnx.ml", name: "classifier", inputs: ["x"], outputs: ["label", "scores"],
                        intListAttributes: ["classlabels_ints": [0, 1]], floatListAttributes: ["coefficients": [1, 2, 3, 4, 5], "intercepts": [0, 1]])
        XCTAssertThrowsError(try InferenceSession(modelData: builder.serialized())) { error in
            XCTAssertTrue("\(error)".contains("coefficients"), "\(error)")
        }
    }
}
