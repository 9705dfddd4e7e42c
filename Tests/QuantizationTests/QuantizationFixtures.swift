import Foundation
import Inference
import XCTest

/// The fixture models and data, scratch directories, and onnxruntime as the oracle.
enum QuantizationFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fashionModel = packageRoot.appendingPathComponent("Fixtures/fashion-mnist/mlp-fp32.onnx")
    static let fashionTraffic = packageRoot.appendingPathComponent("Fixtures/fashion-mnist/traffic.npz")
    static let diabetesModel = packageRoot.appendingPathComponent("Fixtures/diabetes/mlp-fp32.onnx")
    static let diabetesCalibration = packageRoot.appendingPathComponent("Fixtures/diabetes/calibration.npz")
    static let diabetesTest = packageRoot.appendingPathComponent("Fixtures/diabetes/test.npz")

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("QuantizationTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Traffic rows `range` as the float32 `pixels` feed of the Fashion-MNIST model, with their labels.
    static func fashionRows(_ range: Range<Int>) throws -> (pixels: Tensor, labels: [Int64]) {
        let traffic = try NPZ.read(contentsOf: fashionTraffic)
        let input = try XCTUnwrap(traffic["input"]), labels = try XCTUnwrap(traffic["label"])
        let width = input.shape[1]
        let pixels = Array(input.floats[(range.lowerBound * width)..<(range.upperBound * width)])
        return (Tensor(shape: [range.count, width], floats: pixels), Array(labels.int64s[range]))
    }

    /// The coefficient of determination of `predictions` for `targets`.
    static func rSquared(_ predictions: [Float], _ targets: [Float]) -> Double {
        let mean = targets.reduce(0.0) { $0 + Double($1) } / Double(targets.count)
        let residual = zip(predictions, targets).reduce(0.0) { $0 + pow(Double($1.0 - $1.1), 2) }
        let total = targets.reduce(0.0) { $0 + pow(Double($1) - mean, 2) }
        return 1 - residual / total
    }

    static func fileSize(_ url: URL) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
    }
}
