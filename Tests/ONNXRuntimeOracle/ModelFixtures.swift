import Foundation
import Inference

/// The real-model fixtures (all-MiniLM-L6-v2 and PP-OCRv4's text detector), made on first use by
/// Tools/make-model-fixtures.py into .cache/models (a no-op once made). Fails, never skips, when the
/// script cannot make them: CI installs what it needs (Tools/install-dependencies.sh --test-oracles).
public enum ModelFixtures {
    public static let directory = ONNXRuntimeOracle.packageRoot.appendingPathComponent(".cache/models")

    public static var miniLM: URL { directory.appendingPathComponent("minilm-fp32.onnx") }
    public static var textDetector: URL { directory.appendingPathComponent("ocr-det-fp32.onnx") }

    /// Makes the cache once per test process.
    public static func prepare() throws {
        try made.get()
    }

    /// The first `rows` rows of every array in a fixture .npz.
    public static func rows(_ rows: Int, of file: String) throws -> [String: Tensor] {
        try prepare()
        return try NPZ.read(contentsOf: directory.appendingPathComponent(file)).mapValues { $0.firstRows(rows) }
    }

    private static let made: Result<Void, Error> = Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", ONNXRuntimeOracle.packageRoot.appendingPathComponent("Tools/make-model-fixtures.py").path,
                             "--cache", directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ONNXRuntimeOracle.Failure(message: "Tools/make-model-fixtures.py exited with \(process.terminationStatus): \(log)")
        }
    }
}

extension Tensor {
    /// The first `rows` entries along axis 0 (the fixtures hold float32 and int64 arrays).
    func firstRows(_ rows: Int) -> Tensor {
        let taken = min(rows, shape[0]), width = shape.dropFirst().reduce(1, *)
        let newShape = [taken] + shape.dropFirst()
        return elementType == .int64
            ? Tensor(shape: newShape, int64s: Array(int64s.prefix(taken * width)))
            : Tensor(shape: newShape, floats: Array(floats.prefix(taken * width)))
    }
}
