import Foundation
import Inference
import ONNXRuntimeOracle
import Quantization
import XCTest

/// The model zoo (Tools/make-zoo-fixtures.py): classifiers, text recognisers and a detector from
/// real packages, the onnx wheel's ImageNet architectures with weights given to them, and tabular
/// models, each on real inputs. onnxruntime on the same file is the reference.
final class ModelZooTests: XCTestCase {
    static let zooSize = 16
    static let shippedLightModels = 9

    /// Every model loads, and its float outputs are onnxruntime's to 1e-4 relative (labels equal);
    /// a file onnxruntime's integer kernels round differently gives the same argmax at every step.
    func testEveryZooModelMatchesOnnxruntime() throws {
        let zoo = try ModelFixtures.zoo()
        XCTAssertEqual(zoo.count, Self.zooSize)
        for model in zoo {
            let session = try InferenceSession(contentsOf: model.model)
            var worst: Float = 0
            for row in 0..<model.rows {
                let ours = try session.run(model.feeds(row: row))
                for (name, expected) in try model.expectedOutputs(row: row) {
                    let actual = try XCTUnwrap(ours[name], "\(model.name): no output \(name)")
                    XCTAssertEqual(actual.shape, expected.shape, "\(model.name) \(name)")
                    if expected.elementType == .int64 {
                        XCTAssertEqual(actual.int64s, expected.int64s, "\(model.name) row \(row) \(name)")
                    } else if model.comparesArgmaxOnly {
                        XCTAssertEqual(actual.lastAxisArgmax, expected.lastAxisArgmax, "\(model.name) row \(row) \(name)")
                    } else {
                        worst = max(worst, relativeError(actual, expected))
                    }
                }
            }
            print("\(model.name): \(model.rows) rows, worst relative error \(worst)")
            XCTAssertLessThan(worst, 1e-4, model.name)
        }
    }

    /// Our int8-static and int8-dynamic files of every model the schemes apply to, run by both
    /// engines on a real input: the two engines agree on the quantized file.
    func testZooModelsQuantizedAgreeBetweenOurEngineAndOnnxruntime() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for model in try ModelFixtures.zoo() {
            for scheme in model.schemes.compactMap(QuantizationScheme.init(rawValue:)) {
                let file = directory.appendingPathComponent("\(model.name)-\(scheme.rawValue).onnx")
                let options = scheme == .int8Static
                    ? QuantizationOptions(scheme: scheme, calibration: model.calibration) : QuantizationOptions(scheme: scheme)
                let report = try ModelQuantizer.quantize(modelAt: model.model, to: file, options: options)
                let feeds = try model.feeds(row: 0)
                let ours = try InferenceSession(contentsOf: file).run(feeds)
                let theirs = try ONNXRuntimeOracle.outputs(model: file, feeds: feeds)
                let float = try model.expectedOutputs(row: 0)
                for name in model.outputNames {
                    let (actual, expected) = (try XCTUnwrap(ours[name]), try XCTUnwrap(theirs[name]))
                    let agreement = cosine(actual.floats, expected.floats)
                    let fromFloat = cosine(actual.floats, try XCTUnwrap(float[name]).floats)
                    print("\(model.name) \(scheme.rawValue): \(report.quantizedNodes.count) nodes quantized; \(name): cosine to onnxruntime \(agreement), to float \(fromFloat)")
                    XCTAssertGreaterThan(agreement, 0.99, "\(model.name) \(scheme.rawValue) \(name)")
                }
                try FileManager.default.removeItem(at: file)
            }
        }
    }

    /// The onnx wheel's light models as shipped (weights made at run time by ConstantOfShape) load
    /// and match onnxruntime.
    func testShippedLightModelsLoadAndMatchOnnxruntime() throws {
        try assertEveryModelMatchesOnnxruntime(in: try ModelFixtures.shippedLightModels(), size: Self.shippedLightModels,
                                               name: "shipped light models")
    }
}

private extension Tensor {
    /// The position of the largest value in every run along the last axis (a CTC step's class).
    var lastAxisArgmax: [Int] {
        let width = shape.last ?? 1, values = floats
        return stride(from: 0, to: values.count, by: width).map { start in
            values[start..<(start + width)].indices.max { values[$0] < values[$1] }! - start
        }
    }
}
