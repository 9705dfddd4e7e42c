import Foundation
import Inference

/// The real-model fixtures (all-MiniLM-L6-v2 and PP-OCRv4's text detector, the classic-ML suite
/// and the com.microsoft operator suite), made on first use by the fixture scripts into .cache/models (a no-op once made). Fails, never skips, when the
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

    /// The classic-ML models (scikit-learn, LightGBM, XGBoost and hand-written ai.onnx.ml graphs) in
    /// the node-test layout, with onnxruntime's outputs: made on first use by Tools/make-classic-ml-fixtures.py.
    public static func classicMLSuite() throws -> URL {
        try classicMLMade.get()
        return directory.appendingPathComponent("classic-ml")
    }

    /// onnxruntime's com.microsoft operators (QOperator quantized ops, MatMulNBits, DynamicQuantizeLSTM,
    /// the transformer fusions), in files its own tools wrote and in hand-written graphs, in the
    /// node-test layout with onnxruntime's outputs: made on first use by Tools/make-microsoft-op-fixtures.py.
    public static func microsoftOperatorSuite() throws -> URL {
        try microsoftOperatorsMade.get()
        return directory.appendingPathComponent("com-microsoft")
    }

    private static let made = Result { try runScript("Tools/make-model-fixtures.py", "--cache", directory.path) }
    private static let classicMLMade = Result {
        try runScript("Tools/make-classic-ml-fixtures.py", directory.appendingPathComponent("classic-ml").path)
    }
    private static let microsoftOperatorsMade = Result {
        try runScript("Tools/make-microsoft-op-fixtures.py", directory.appendingPathComponent("com-microsoft").path)
    }

    private static func runScript(_ script: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", ONNXRuntimeOracle.packageRoot.appendingPathComponent(script).path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ONNXRuntimeOracle.Failure(message: "\(script) exited with \(process.terminationStatus): \(log)")
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
