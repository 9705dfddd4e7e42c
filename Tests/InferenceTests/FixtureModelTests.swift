import Foundation
import Inference
import Quantization
import XCTest

/// The Fashion-MNIST fixtures through our engine against onnxruntime on real traffic rows.
final class FixtureModelTests: XCTestCase {
    private let rows = 600

    func testFP32ModelMatchesOnnxruntime() throws {
        let pixels = try TestSupport.trafficPixels(rows: rows)
        let ours = try InferenceSession(contentsOf: TestSupport.fp32Model).run(["pixels": pixels])
        let theirs = try TestSupport.onnxruntimeOutputs(model: TestSupport.fp32Model, feeds: ["pixels": pixels])
        let probabilities = try XCTUnwrap(ours["probabilities"])
        XCTAssertEqual(probabilities.shape, [rows, 10])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(probabilities, try XCTUnwrap(theirs["probabilities"])), 1e-4)
        XCTAssertEqual(ours["label"], theirs["label"])
    }

    func testFP16ModelIsCloseToOnnxruntime() throws {
        let pixels = try TestSupport.trafficPixels(rows: rows)
        let ours = try InferenceSession(contentsOf: TestSupport.fp16Model).run(["pixels": pixels])
        let theirs = try TestSupport.onnxruntimeOutputs(model: TestSupport.fp16Model, feeds: ["pixels": pixels])
        let probabilities = try XCTUnwrap(ours["probabilities"]), expected = try XCTUnwrap(theirs["probabilities"])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(probabilities, expected), 2e-2)
        let agreement = zip(TestSupport.argmaxRows(probabilities), TestSupport.argmaxRows(expected)).filter(==).count
        XCTAssertGreaterThanOrEqual(Double(agreement) / Double(rows), 0.995)
    }

    func testInt8ModelMatchesOnnxruntimeOnTheSameQuantizedFile() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quantized = directory.appendingPathComponent("mlp-int8.onnx")
        _ = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: quantized, scheme: .int8Dynamic)
        let pixels = try TestSupport.trafficPixels(rows: rows)

        let ours = try XCTUnwrap(InferenceSession(contentsOf: quantized).run(["pixels": pixels])["probabilities"])
        let theirs = try XCTUnwrap(TestSupport.onnxruntimeOutputs(model: quantized, feeds: ["pixels": pixels])["probabilities"])
        let agreement = zip(TestSupport.argmaxRows(ours), TestSupport.argmaxRows(theirs)).filter(==).count
        XCTAssertGreaterThanOrEqual(Double(agreement) / Double(rows), 0.995)
        let maxAbsDiff = zip(ours.floats, theirs.floats).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(maxAbsDiff, 1e-3)
    }

    func testConcurrentRunsAgreeWithASerialRun() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        let pixels = try TestSupport.trafficPixels(rows: 8)
        let expected = try session.run(["pixels": pixels])
        let results = ConcurrentResults(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            results.store(Result { try session.run(["pixels": pixels]) }, at: index)
        }
        for result in results.all {
            XCTAssertEqual(try result.get(), expected)
        }
    }
}

/// Collects results written from concurrentPerform's threads; the lock makes the shared array safe.
private final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[String: Tensor], any Error>]

    init(count: Int) { results = Array(repeating: .success([:]), count: count) }

    func store(_ result: Result<[String: Tensor], any Error>, at index: Int) {
        lock.withLock { results[index] = result }
    }

    var all: [Result<[String: Tensor], any Error>] { lock.withLock { results } }
}
