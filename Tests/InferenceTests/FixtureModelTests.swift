import Foundation
import Inference
import Quantization
import ONNXRuntimeOracle
import XCTest

/// The Fashion-MNIST fixtures through our engine against onnxruntime on real traffic rows.
final class FixtureModelTests: XCTestCase {
    private let rows = 600

    func testFP32ModelMatchesOnnxruntime() throws {
        let pixels = try TestSupport.trafficPixels(rows: rows)
        let ours = try InferenceSession(contentsOf: TestSupport.fp32Model).run(["pixels": pixels])
        let theirs = try ONNXRuntimeOracle.outputs(model: TestSupport.fp32Model, feeds: ["pixels": pixels])
        let probabilities = try XCTUnwrap(ours["probabilities"])
        XCTAssertEqual(probabilities.shape, [rows, 10])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(probabilities, try XCTUnwrap(theirs["probabilities"])), 1e-4)
        XCTAssertEqual(ours["label"], theirs["label"])
    }

    func testFP16ModelIsCloseToOnnxruntime() throws {
        let pixels = try TestSupport.trafficPixels(rows: rows)
        let ours = try InferenceSession(contentsOf: TestSupport.fp16Model).run(["pixels": pixels])
        let theirs = try ONNXRuntimeOracle.outputs(model: TestSupport.fp16Model, feeds: ["pixels": pixels])
        let probabilities = try XCTUnwrap(ours["probabilities"]), expected = try XCTUnwrap(theirs["probabilities"])
        XCTAssertLessThan(TestSupport.maxRowRelativeError(probabilities, expected), 2e-2)
        let agreement = zip(TestSupport.argmaxRows(probabilities), TestSupport.argmaxRows(expected)).filter(==).count
        XCTAssertGreaterThanOrEqual(Double(agreement) / Double(rows), 0.995)
    }

    /// onnxruntime's AVX2 u8s8 kernel (vpmaddubsw) saturates int16 pair sums when
    /// 2 x 255 x |w| > 32767, so on CPUs without VNNI its results for full-range int8 weights are
    /// inexact while ours are exact: on the real file only top-1 agreement is compared.
    func testInt8ModelAgreesWithOnnxruntimeOnTheQuantizedFile() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quantized = directory.appendingPathComponent("mlp-int8.onnx")
        _ = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: quantized, scheme: .int8Dynamic)
        let pixels = try TestSupport.trafficPixels(rows: nil)

        let ours = try XCTUnwrap(InferenceSession(contentsOf: quantized).run(["pixels": pixels])["probabilities"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: quantized, feeds: ["pixels": pixels])["probabilities"])
        let agreement = zip(TestSupport.argmaxRows(ours), TestSupport.argmaxRows(theirs)).filter(==).count
        XCTAssertGreaterThanOrEqual(Double(agreement) / Double(pixels.shape[0]), 0.995)
    }

    /// Intra-op threads share a product out in blocks run by the same kernel, so FP32 and INT8
    /// results do not depend on the thread count.
    func testTwoThreadsGiveTheOneThreadResults() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quantized = directory.appendingPathComponent("mlp-int8.onnx")
        _ = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: quantized, scheme: .int8Dynamic)
        let pixels = try TestSupport.trafficPixels(rows: 64)
        for model in [TestSupport.fp32Model, quantized] {
            let one = try InferenceSession(contentsOf: model, threads: 1).run(["pixels": pixels])["probabilities"]
            let two = try InferenceSession(contentsOf: model, threads: 2).run(["pixels": pixels])["probabilities"]
            XCTAssertEqual(one, two, model.lastPathComponent)
        }
    }

    /// What a session keeps resident: constants plus packed copies. The MLP's 235,146 float weights
    /// are held once as constants and once packed (strips padded to 24 columns); INT8 keeps int8
    /// weights twice (constants and the packed layout) and its float biases and scales.
    func testResidentBytesCountConstantsAndPackedWeights() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quantized = directory.appendingPathComponent("mlp-int8.onnx")
        _ = try ModelQuantizer.quantize(modelAt: TestSupport.fp32Model, to: quantized, scheme: .int8Dynamic)
        let float = try InferenceSession(contentsOf: TestSupport.fp32Model).residentBytes
        let int8 = try InferenceSession(contentsOf: quantized).residentBytes
        let weights = 784 * 256 + 256 * 128 + 128 * 10
        XCTAssertGreaterThanOrEqual(float, 2 * 4 * weights, "constants and packed copy, 4 bytes each")
        XCTAssertLessThan(float, 2 * 4 * weights + 4 * 24 * (784 + 256 + 128) + 64 * 1024)
        XCTAssertGreaterThanOrEqual(int8, 2 * weights)
        XCTAssertLessThan(Double(int8) / Double(float), 0.3)
    }

    /// With `reduceRange` the weights fit 7 bits, onnxruntime cannot saturate, and both engines
    /// must agree closely on the same file.
    func testInt8ModelMatchesOnnxruntimeWhereOnnxruntimeIsExact() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sevenBit = directory.appendingPathComponent("mlp-int8-7bit.onnx")
        _ = try ModelQuantizer.quantize(
            modelAt: TestSupport.fp32Model, to: sevenBit, options: QuantizationOptions(scheme: .int8Dynamic, weightRange: .reduced))
        let weights = try Onnx_ModelProto(serializedBytes: Data(contentsOf: sevenBit)).graph.initializer
            .filter { $0.name.hasSuffix("_weight_quantized") }
        XCTAssertEqual(weights.count, 3)
        for proto in weights {
            XCTAssertLessThanOrEqual(try Tensor(onnxTensor: proto).int64s.map(abs).max() ?? 0, 63, proto.name)
        }
        let pixels = try TestSupport.trafficPixels(rows: rows)

        let ours = try InferenceSession(contentsOf: sevenBit).run(["pixels": pixels])
        let theirs = try ONNXRuntimeOracle.outputs(model: sevenBit, feeds: ["pixels": pixels])
        XCTAssertEqual(ours["label"], theirs["label"])
        let probabilities = try XCTUnwrap(ours["probabilities"]), expected = try XCTUnwrap(theirs["probabilities"])
        let maxAbsDiff = zip(probabilities.floats, expected.floats).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(maxAbsDiff, 1e-5)
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
