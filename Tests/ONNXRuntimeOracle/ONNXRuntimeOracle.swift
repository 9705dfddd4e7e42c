import Foundation
import Inference

/// onnxruntime as the tests' oracle: runs a model through Tools/ort_oracle.py on the same feeds.
/// Fails (never skips) when python3 or onnxruntime is missing, since CI installs them
/// (Tools/install-dependencies.sh --test-oracles).
public enum ONNXRuntimeOracle {
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// - Parameter nodeByNode: graph optimizations off, so a QDQ file rounds where the file says
    ///   rather than inside onnxruntime's fused integer kernels (which round at other points).
    public static func outputs(model: URL, feeds: [String: Tensor], nodeByNode: Bool = false) throws -> [String: Tensor] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ort-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = directory.appendingPathComponent("in.npz"), outputs = directory.appendingPathComponent("out.npz")
        try NPZ.write(feeds, to: inputs)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tools/ort_oracle.py").path,
                             model.path, inputs.path, outputs.path] + (nodeByNode ? ["--node-by-node"] : [])
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(message: "Tools/ort_oracle.py exited with \(process.terminationStatus): \(message)")
        }
        return try NPZ.read(contentsOf: outputs)
    }
}
