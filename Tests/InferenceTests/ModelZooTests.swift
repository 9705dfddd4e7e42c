import Foundation
import Inference
import ONNXRuntimeOracle
import Quantization
import ShadowEval
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

    /// Files above this size (VGG-19, AlexNet and ZFNet-512, 60-140M weights) are quantized by the
    /// release benchmark (Tools/bench_zoo.py), not here: the debug build's quantizer spends minutes
    /// on each of them.
    static let largestQuantizedInTests = 100 << 20

    /// Our int8-static and int8-dynamic files of every model the schemes apply to, run by both
    /// engines on a real input: the two engines agree on the quantized file. onnxruntime runs it
    /// node by node, as the file defines it. Its fused integer kernels round at other points, which
    /// moves the flat softmax of random-weight ResNet-50 and ShuffleNet by a cosine of about 0.02
    /// (between onnxruntime's two runs as much as between the engines), so that agreement is printed.
    func testZooModelsQuantizedAgreeBetweenOurEngineAndOnnxruntime() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let zoo = try ModelFixtures.zoo().filter { model in
            let bytes = try model.model.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
            return bytes <= Self.largestQuantizedInTests
        }
        XCTAssertEqual(zoo.filter { !$0.schemes.isEmpty }.count, 10, "every model with a scheme but the three largest")
        for model in zoo {
            for scheme in model.schemes.compactMap(QuantizationScheme.init(rawValue:)) {
                let file = directory.appendingPathComponent("\(model.name)-\(scheme.rawValue).onnx")
                let options = scheme == .int8Static
                    ? QuantizationOptions(scheme: scheme, calibration: model.calibration) : QuantizationOptions(scheme: scheme)
                let report = try ModelQuantizer.quantize(modelAt: model.model, to: file, options: options)
                let feeds = try model.feeds(row: 0)
                let ours = try InferenceSession(contentsOf: file).run(feeds)
                let theirs = try ONNXRuntimeOracle.outputs(model: file, feeds: feeds, nodeByNode: true)
                let fused = try ONNXRuntimeOracle.outputs(model: file, feeds: feeds)
                let float = try model.expectedOutputs(row: 0)
                for name in model.outputNames {
                    let (actual, expected) = (try XCTUnwrap(ours[name]), try XCTUnwrap(theirs[name]))
                    let agreement = cosine(actual.floats, expected.floats)
                    let fromFloat = cosine(actual.floats, try XCTUnwrap(float[name]).floats)
                    let toFused = cosine(actual.floats, try XCTUnwrap(fused[name]).floats)
                    print("\(model.name) \(scheme.rawValue): \(report.quantizedNodes.count) nodes and \(report.quantizedBetween.count) between quantized; "
                        + "\(name): cosine to onnxruntime node by node \(agreement), fused \(toFused), to float \(fromFloat)")
                    XCTAssertGreaterThan(agreement, 0.99, "\(model.name) \(scheme.rawValue) \(name)")
                }
                try FileManager.default.removeItem(at: file)
            }
        }
    }

    /// The zoo's detector and text recognisers judged as a rollout judges them: our int8-static
    /// candidate against the float reference on each real input, by the boxes matched (ddddocr's
    /// YOLOX detector) or the decoded text (ddddocr's CRNN, PP-OCRv4's SVTR). A candidate that
    /// answers for another input (a stand-in for a broken model) differs on every input with
    /// something in it.
    func testZooDetectorAndRecognisersAreJudgedByTheirTaskKinds() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let kinds: [String: TaskKind] = [
            "ddddocr-det": .detection(DetectionMatching(boxFormat: .yolox, minimumIoU: 0.5, minimumScore: 0.25, nmsIoU: 0.45)),
            "ddddocr-rec": .ctc(CTCTextDifference()),
            "ppocr-rec": .ctc(CTCTextDifference()),
        ]
        for model in try ModelFixtures.zoo() {
            guard let kind = kinds[model.name], let output = model.outputNames.first else { continue }
            for extent in [OpsBetweenQuantizedNodes.exact, .all] {
                let file = directory.appendingPathComponent("\(model.name)-int8-static.onnx")
                _ = try ModelQuantizer.quantize(
                    modelAt: model.model, to: file,
                    options: QuantizationOptions(scheme: .int8Static, calibration: model.calibration, between: extent))
                let candidate = try InferenceSession(contentsOf: file)
                let references = try (0..<model.rows).map { try XCTUnwrap(model.expectedOutputs(row: $0)[output]) }
                var (quantizedDiffer, brokenDiffer, withContent) = (0, 0, 0)
                for (row, reference) in references.enumerated() {
                    let quantized = try XCTUnwrap(candidate.run(model.feeds(row: row))[output])
                    let other = references[(row + 1) % references.count]
                    let judged = try [quantized, other].map { answer in
                        try kind.pairedSamples(reference: (reference.floats, reference.shape), candidate: (answer.floats, answer.shape))
                    }
                    let (ours, broken) = (judged[0][0], judged[1][0])
                    if kind.isMateriallyDifferent(reference: ours.reference, candidate: ours.candidate) { quantizedDiffer += 1 }
                    guard !broken.reference.isEmpty || !broken.candidate.isEmpty else { continue }
                    withContent += 1
                    if kind.isMateriallyDifferent(reference: broken.reference, candidate: broken.candidate) { brokenDiffer += 1 }
                }
                print("\(model.name) (\(kind.name)): int8-static (between ops: \(extent)) differs on \(quantizedDiffer) of \(model.rows) inputs; "
                    + "another input's answer on \(brokenDiffer) of \(withContent)")
                XCTAssertLessThanOrEqual(quantizedDiffer, 1, "\(model.name) \(extent)")
                XCTAssertGreaterThan(withContent, 0, model.name)
                XCTAssertEqual(brokenDiffer, withContent, model.name)
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
        return stride(from: 0, to: values.count, by: width).map { OutputComparison.top1(values[$0..<($0 + width)]) }
    }
}
