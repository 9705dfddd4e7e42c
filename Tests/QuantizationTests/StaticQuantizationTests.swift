import Foundation
import Inference
import Quantization
import NIOConcurrencyHelpers
import ONNXRuntimeOracle
import XCTest

/// int8-static end to end: calibrated with our engine, written as QDQ, run by onnxruntime.
final class StaticQuantizationTests: XCTestCase {
    func testFashionMNISTQDQModelRunsInOnnxruntimeAndAgreesWithFloat() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let calibration = directory.appendingPathComponent("calibration.npz")
        try NPZ.write(["pixels": QuantizationFixtures.fashionRows(0..<300).pixels], to: calibration)
        let output = directory.appendingPathComponent("int8-static.onnx")
        let progress = ProgressLog()
        let report = try ModelQuantizer.quantize(
            modelAt: QuantizationFixtures.fashionModel, to: output,
            options: QuantizationOptions(scheme: .int8Static, calibration: calibration), progress: progress.record)

        XCTAssertEqual(report.quantizedNodes, ["MatMul", "MatMul1", "MatMul2"])
        XCTAssertEqual(report.calibrationRows, 300)
        XCTAssertEqual(progress.entries.last, CalibrationProgress(pass: 1, passes: 1, rowsDone: 300, rows: 300))
        XCTAssertLessThan(Double(report.bytesAfter), Double(report.bytesBefore) / 3.5)

        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        XCTAssertEqual(model.graph.node.filter { $0.opType == "QuantizeLinear" }.count, 3)
        XCTAssertEqual(model.graph.node.filter { $0.opType == "DequantizeLinear" }.count, 6)
        let weightScale = try XCTUnwrap(model.graph.initializer.first { $0.name == "coefficient_scale" })
        XCTAssertEqual(weightScale.dims, [256], "per output channel by default")

        let (pixels, _) = try QuantizationFixtures.fashionRows(1000..<1600)
        let reference = try XCTUnwrap(ONNXRuntimeOracle.outputs(
            model: QuantizationFixtures.fashionModel, feeds: ["pixels": pixels])["label"])
        let candidate = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["pixels": pixels])["label"])
        let agreement = Double(zip(reference.int64s, candidate.int64s).filter(==).count) / 600
        XCTAssertGreaterThanOrEqual(agreement, 0.98)
    }

    /// Symmetric int8 activations: zero points are int8 zeros, onnxruntime runs the file, and both
    /// engines agree with the float model and with each other.
    func testSymmetricInt8ActivationsRunInOnnxruntimeAndOurEngine() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let calibration = directory.appendingPathComponent("calibration.npz")
        try NPZ.write(["pixels": QuantizationFixtures.fashionRows(0..<300).pixels], to: calibration)
        let output = directory.appendingPathComponent("int8-static-symmetric.onnx")
        _ = try ModelQuantizer.quantize(
            modelAt: QuantizationFixtures.fashionModel, to: output,
            options: QuantizationOptions(scheme: .int8Static, calibration: calibration, activations: .int8))

        let model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: output))
        let activationZeroPoints = model.graph.initializer.filter { $0.name.hasSuffix("_zero_point") && $0.dims.isEmpty }
        XCTAssertEqual(activationZeroPoints.count, 3)
        for proto in activationZeroPoints {
            let zero = try Tensor(onnxTensor: proto)
            XCTAssertEqual(zero.elementType, .int8, proto.name)
            XCTAssertEqual(zero.int64s, [0], proto.name)
        }

        let (pixels, _) = try QuantizationFixtures.fashionRows(1000..<1600)
        let reference = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: QuantizationFixtures.fashionModel, feeds: ["pixels": pixels])["label"])
        let theirs = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["pixels": pixels])["label"])
        let ours = try XCTUnwrap(InferenceSession(contentsOf: output).run(["pixels": pixels])["label"])
        func agreement(_ a: Tensor, _ b: Tensor) -> Double { Double(zip(a.int64s, b.int64s).filter(==).count) / 600 }
        XCTAssertGreaterThanOrEqual(agreement(reference, theirs), 0.98)
        XCTAssertGreaterThanOrEqual(agreement(reference, ours), 0.98)
        XCTAssertGreaterThanOrEqual(agreement(theirs, ours), 0.99)
    }

    func testDiabetesKeepsScalingAndHeadInFloatAndHoldsRSquaredWithEveryMethod() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let test = try NPZ.read(contentsOf: QuantizationFixtures.diabetesTest)
        let features = try XCTUnwrap(test["features"]), targets = try XCTUnwrap(test["target"]).floats
        let float = try XCTUnwrap(ONNXRuntimeOracle.outputs(
            model: QuantizationFixtures.diabetesModel, feeds: ["features": features])["prediction"])
        let floatR2 = QuantizationFixtures.rSquared(float.floats, targets)

        for method in CalibrationMethod.allCases {
            let output = directory.appendingPathComponent("diabetes-\(method.rawValue).onnx")
            let report = try ModelQuantizer.quantize(
                modelAt: QuantizationFixtures.diabetesModel, to: output,
                options: QuantizationOptions(scheme: .int8Static, calibration: QuantizationFixtures.diabetesCalibration, method: method))
            XCTAssertEqual(report.quantizedNodes, ["MatMul0"], "\(method)")
            XCTAssertEqual(report.skippedNodes.map(\.name), ["MatMul1"], "the regression head stays in float")

            let quantized = try XCTUnwrap(ONNXRuntimeOracle.outputs(model: output, feeds: ["features": features])["prediction"])
            let r2 = QuantizationFixtures.rSquared(quantized.floats, targets)
            XCTAssertGreaterThan(r2, floatR2 - 0.01, "\(method): R^2 \(r2) against float \(floatR2)")
        }
    }

    func testExcludedOpTypeAndNodeStayInFloat() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.onnx")
        let report = try ModelQuantizer.quantize(
            modelAt: QuantizationFixtures.diabetesModel, to: output,
            options: QuantizationOptions(scheme: .int8Static, calibration: QuantizationFixtures.diabetesCalibration,
                                         excludedNodes: ["MatMul0"]))
        XCTAssertEqual(report.quantizedNodes, [])
        XCTAssertEqual(report.skippedNodes.first?.reason, "excluded by --exclude-node")

        let byType = try ModelQuantizer.quantize(
            modelAt: QuantizationFixtures.fashionModel, to: output,
            options: QuantizationOptions(scheme: .int8Dynamic, excludedOpTypes: ["MatMul"]))
        XCTAssertEqual(byType.quantizedNodes, [])
        XCTAssertEqual(byType.skippedNodes.count, 3)
    }

    func testBadOptionsNameTheProblem() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("never-written.onnx")
        let cases: [(QuantizationOptions, String)] = [
            (QuantizationOptions(scheme: .int8Static), "--calibration"),
            (QuantizationOptions(scheme: .int4Weight, blockSize: 48), "--block-size 48"),
            (QuantizationOptions(scheme: .int8Static, calibration: QuantizationFixtures.diabetesCalibration, excludedNodes: ["MatMul9"]),
             "MatMul9"),
            (QuantizationOptions(scheme: .int8Static, calibration: QuantizationFixtures.fashionTraffic), "features"),
        ]
        for (options, expected) in cases {
            XCTAssertThrowsError(try ModelQuantizer.quantize(modelAt: QuantizationFixtures.diabetesModel, to: output, options: options)) { error in
                XCTAssertTrue(String(describing: error).contains(expected), "\(error) should mention \(expected)")
            }
        }
    }
}

/// Collects progress reports from the quantizer's callback.
private final class ProgressLog: Sendable {
    private let storage = NIOLockedValueBox<[CalibrationProgress]>([])
    var entries: [CalibrationProgress] { storage.withLockedValue { $0 } }

    @Sendable func record(_ progress: CalibrationProgress) {
        storage.withLockedValue { $0.append(progress) }
    }
}

/// The per-layer report: weight statistics always, output SQNR when asked.
final class LayerReportTests: XCTestCase {
    func testReportMeasuresEachLayersWeightsAndOutput() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let calibration = directory.appendingPathComponent("calibration.npz")
        try NPZ.write(["pixels": QuantizationFixtures.fashionRows(0..<200).pixels], to: calibration)
        let report = try ModelQuantizer.quantize(
            modelAt: QuantizationFixtures.fashionModel, to: directory.appendingPathComponent("out.onnx"),
            options: QuantizationOptions(scheme: .int8Static, calibration: calibration, measureLayerOutputs: true))

        XCTAssertEqual(report.layers.map(\.node), ["MatMul", "MatMul1", "MatMul2"])
        XCTAssertEqual(report.layers.map(\.outputChannels), [256, 128, 10])
        for layer in report.layers {
            XCTAssertGreaterThan(layer.weightSQNR, 30, "8-bit per-channel weights keep over 30 dB")
            let output = try XCTUnwrap(layer.outputSQNR, layer.node)
            // Finite: the quantized layer's output differs from the float one, but by little.
            XCTAssert(output.isFinite && output > 15, "\(layer.node): \(output) dB")
        }
        XCTAssertEqual(Set(report.layers.compactMap(\.outputSQNR)).count, 3, "each layer's output is measured on its own")
    }
}
