import Foundation
import Inference

/// The real-model fixtures (all-MiniLM-L6-v2 and PP-OCRv4's text detector, the classic-ML suite,
/// the com.microsoft operator suite and the model zoo), made on first use by the fixture scripts into .cache/models (a no-op once made). Fails, never skips, when the
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

    /// The model zoo (Tools/make-zoo-fixtures.py): real models from real packages with real inputs
    /// and onnxruntime's outputs, made on first use.
    public static func zoo() throws -> [ZooModel] {
        try zooMade.get()
        let index = try JSONDecoder().decode(ZooIndex.self, from: Data(contentsOf: zooDirectory.appendingPathComponent("zoo.json")))
        return index.models.map { ZooModel(entry: $0, folder: zooDirectory.appendingPathComponent($0.name)) }
    }

    /// The onnx wheel's light models as shipped (every weight one constant), in the node-test layout.
    public static func shippedLightModels() throws -> URL {
        try zooMade.get()
        return zooDirectory.appendingPathComponent("shipped")
    }

    private static let zooDirectory = directory.appendingPathComponent("zoo")
    private static let zooMade = Result { try runScript("Tools/make-zoo-fixtures.py", zooDirectory.path) }
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
    /// The first `rows` entries along axis 0.
    func firstRows(_ rows: Int) -> Tensor {
        self.rows(0..<min(rows, shape[0]))
    }

    /// The entries `range` along axis 0 (the fixtures hold float32 and int64 arrays).
    public func rows(_ range: Range<Int>) -> Tensor {
        let width = shape.dropFirst().reduce(1, *), elements = (range.lowerBound * width)..<(range.upperBound * width)
        let newShape = [range.count] + shape.dropFirst()
        return elementType == .int64
            ? Tensor(shape: newShape, int64s: Array(int64s[elements]))
            : Tensor(shape: newShape, floats: Array(floats[elements]))
    }
}
