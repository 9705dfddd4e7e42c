import Foundation
@testable import Inference
import ONNXRuntimeOracle
import Quantization
import XCTest

/// Models people deploy, on real inputs, against onnxruntime on the same file: the all-MiniLM-L6-v2
/// sentence encoder (on Debian package descriptions and OpenCV tutorial prose) and PP-OCRv4's text
/// detector (on scanned pages). Made by Tools/make-model-fixtures.py into a cache.
final class RealModelTests: XCTestCase {
    /// sentence-transformers' documented similarities for all-MiniLM-L6-v2 of "The weather is lovely
    /// today.", "It's so sunny outside!" and "He drove to the stadium." (pairs 0-1, 0-2, 1-2).
    func testMiniLMReproducesTheDocumentedSimilarities() throws {
        let feeds = try ModelFixtures.rows(3, of: "minilm-documented.npz")
        let embeddings = try XCTUnwrap(InferenceSession(contentsOf: ModelFixtures.miniLM).run(feeds)["sentence_embedding"])
        let rows = embeddings.rowVectors
        let documented: [(Int, Int, Float)] = [(0, 1, 0.6660), (0, 2, 0.1046), (1, 2, 0.1411)]
        for (first, second, similarity) in documented {
            XCTAssertEqual(cosine(rows[first], rows[second]), similarity, accuracy: 1e-3, "sentences \(first) and \(second)")
        }
    }

    /// The export's 13 decomposed layer normalisations run as LayerNormalization (no Pow is left),
    /// its 6 decomposed GELUs as Gelu (no Erf is left).
    func testMiniLMMatchesOnnxruntimeOnRealTexts() throws {
        let feeds = try ModelFixtures.rows(2, of: "minilm-test.npz")
        let session = try InferenceSession(contentsOf: ModelFixtures.miniLM)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "LayerNormalization" }.count, 13)
        XCTAssertFalse(operators.contains("Pow"))
        XCTAssertEqual(operators.filter { $0 == "Gelu" }.count, 6)
        XCTAssertFalse(operators.contains("Erf"))
        let ours = try session.run(feeds)
        let theirs = try ONNXRuntimeOracle.outputs(model: ModelFixtures.miniLM, feeds: feeds)
        for name in ["last_hidden_state", "sentence_embedding"] {
            let (actual, expected) = (try XCTUnwrap(ours[name]), try XCTUnwrap(theirs[name]))
            XCTAssertEqual(actual.shape, expected.shape, name)
            XCTAssertLessThan(relativeError(actual, expected), 1e-4, name)
        }
    }

    /// The same int8-dynamic file through both engines: embeddings, not labels, so cosine per text.
    /// The default pair-safe weights keep onnxruntime's saturating AVX2 kernel (no VNNI) exact; with
    /// full-range weights its embeddings drift to cosine 0.987-0.997 of ours.
    func testMiniLMInt8AgreesWithOnnxruntimeOnTheQuantizedFile() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quantized = directory.appendingPathComponent("minilm-int8.onnx")
        try ModelFixtures.prepare()
        _ = try ModelQuantizer.quantize(
            modelAt: ModelFixtures.miniLM, to: quantized, options: QuantizationOptions(scheme: .int8Dynamic))
        let feeds = try ModelFixtures.rows(2, of: "minilm-test.npz")
        let ours = try XCTUnwrap(InferenceSession(contentsOf: quantized).run(feeds)["sentence_embedding"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: quantized, feeds: feeds)["sentence_embedding"])
        for (row, (actual, expected)) in zip(ours.rowVectors, theirs.rowVectors).enumerated() {
            XCTAssertGreaterThan(cosine(actual, expected), 0.999, "text \(row)")
        }
    }

    /// int4-weight on the opset-14 file: the quantizer raises it to opset 21 (ReduceMean's axes
    /// become an input), our engine runs every blocked MatMul fused with its weights kept 4-bit, and
    /// agrees with onnxruntime on the file (whose MatMulNBits also rounds the activations to int8).
    func testMiniLMInt4WeightRunsFusedAndAgreesWithOnnxruntime() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quantized = directory.appendingPathComponent("minilm-int4.onnx")
        try ModelFixtures.prepare()
        _ = try ModelQuantizer.quantize(modelAt: ModelFixtures.miniLM, to: quantized, options: QuantizationOptions(scheme: .int4Weight))
        let session = try InferenceSession(contentsOf: quantized)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "MatMulBlockDequantized" }.count, 35, "6 layers x 6 dense MatMuls, the last float")
        XCTAssertFalse(operators.contains("DequantizeLinear"), "no weight is dequantized whole")

        let feeds = try ModelFixtures.rows(2, of: "minilm-test.npz")
        let ours = try XCTUnwrap(session.run(feeds)["sentence_embedding"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: quantized, feeds: feeds)["sentence_embedding"])
        for (row, (actual, expected)) in zip(ours.rowVectors, theirs.rowVectors).enumerated() {
            XCTAssertGreaterThan(cosine(actual, expected), 0.995, "text \(row)")
        }
    }

    /// A scanned page: the probability map agrees to onnxruntime's own rounding noise (its optimised
    /// and unoptimised graphs differ by about 1e-5 relative, 1.2e-4 at most), and every pixel is on
    /// the same side of the detector's 0.3 text threshold. Its 24 decomposed hard swishes run as
    /// HardSwish (onnxruntime runs the four nodes each).
    func testTextDetectorMatchesOnnxruntimeOnAScannedPage() throws {
        let feeds = try ModelFixtures.rows(1, of: "ocr-det-images.npz")
        let session = try InferenceSession(contentsOf: ModelFixtures.textDetector)
        let operators = session.plan.steps.map(\.opType)
        XCTAssertEqual(operators.filter { $0 == "HardSwish" }.count, 24)
        XCTAssertFalse(operators.contains("Clip"))
        let ours = try XCTUnwrap(session.run(feeds)["sigmoid_0.tmp_0"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: ModelFixtures.textDetector, feeds: feeds)["sigmoid_0.tmp_0"])
        XCTAssertEqual(ours.shape, [1, 1, 320, 448])
        XCTAssertLessThan(relativeError(ours, theirs), 1e-4)
        let text = zip(ours.floats, theirs.floats).filter { ($0 > 0.3) != ($1 > 0.3) }.count
        XCTAssertEqual(text, 0, "pixels on different sides of the text threshold")
        XCTAssertGreaterThan(Float(ours.floats.filter { $0 > 0.3 }.count) / Float(ours.count), 0.05, "a scanned page is mostly text lines")
    }

    /// The detector quantized int8-static (QDQ, per-channel, from opset 12 raised to 13, weights that
    /// paddle2onnx wrote as Constant nodes) on two calibration photos; both engines run the file, ours
    /// with the QDQ Convs fused into integer kernels. One-level rounding flips (float accumulation
    /// order) grow through the network's squeeze-excitation blocks, so two correct engines differ
    /// more here than on the MLP: onnxruntime's optimised and unoptimised graphs agree to cosine
    /// 0.9994-0.9999 per image, ours and onnxruntime's to 0.9966-0.9997 (measured over the 8 test images).
    func testTextDetectorInt8AgreesWithOnnxruntimeOnTheQuantizedFile() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (calibration, quantized) = (directory.appendingPathComponent("calibration.npz"), directory.appendingPathComponent("ocr-int8.onnx"))
        try NPZ.write(try ModelFixtures.rows(2, of: "ocr-det-calibration.npz"), to: calibration)
        let report = try ModelQuantizer.quantize(
            modelAt: ModelFixtures.textDetector, to: quantized, options: QuantizationOptions(scheme: .int8Static, calibration: calibration))
        XCTAssertEqual(report.quantizedNodes.count, 62, "every Conv")
        let feeds = try ModelFixtures.rows(1, of: "ocr-det-images.npz")
        let ours = try XCTUnwrap(InferenceSession(contentsOf: quantized).run(feeds)["sigmoid_0.tmp_0"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: quantized, feeds: feeds)["sigmoid_0.tmp_0"])
        XCTAssertGreaterThan(cosine(ours.floats, theirs.floats), 0.995)
        let sameSide = zip(ours.floats, theirs.floats).filter { ($0 > 0.3) == ($1 > 0.3) }.count
        XCTAssertGreaterThan(Double(sameSide) / Double(ours.count), 0.995, "pixels on the same side of the text threshold")
    }
}

private extension Tensor {
    /// Each row along axis 0, flattened.
    var rowVectors: [[Float]] {
        let width = shape.dropFirst().reduce(1, *), values = floats
        return (0..<shape[0]).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }
}
