import Foundation
import Inference
import XCTest

/// Paths and the onnxruntime oracle shared by the tests.
enum TestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Fixtures/fashion-mnist")
    static let fp32Model = fixtures.appendingPathComponent("mlp-fp32.onnx")
    static let fp16Model = fixtures.appendingPathComponent("mlp-fp16.onnx")
    static let traffic = fixtures.appendingPathComponent("traffic.npz")

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("InferenceTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The first `rows` traffic images (all when nil) as the float32 `pixels` feed the fixture models take.
    static func trafficPixels(rows: Int?) throws -> Tensor {
        let input = try XCTUnwrap(NPZ.read(contentsOf: traffic)["input"])
        let width = input.shape[1], rows = rows ?? input.shape[0]
        let pixels = Array(input.floats.prefix(rows * width))
        return Tensor(shape: [rows, width], floats: pixels)
    }

    /// Largest |a - b| over each row, divided by the row's largest |b|.
    static func maxRowRelativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
        let width = expected.shape.last ?? 1
        let a = actual.floats, b = expected.floats
        return stride(from: 0, to: b.count, by: width).map { start in
            let row = start..<(start + width)
            let scale = row.map { abs(b[$0]) }.max() ?? 1
            return row.map { abs(a[$0] - b[$0]) }.max()! / max(scale, .leastNormalMagnitude)
        }.max() ?? 0
    }

    static func argmaxRows(_ tensor: Tensor) -> [Int] {
        let width = tensor.shape.last ?? 1
        let values = tensor.floats
        return stride(from: 0, to: values.count, by: width).map { start in
            (start..<(start + width)).max { values[$0] < values[$1] }! - start
        }
    }
}
