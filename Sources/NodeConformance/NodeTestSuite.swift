import Foundation
import Inference

/// ONNX's backend node tests (onnx/backend/test/data/node in the onnx wheel): one directory per test,
/// each a model.onnx and test_data_set_* directories of input_N.pb / output_N.pb.
public struct NodeTestSuite: Sendable {
    public let root: URL
    public let testDirectories: [URL]

    public init(root: URL) throws {
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw NodeTestError("\(root.path) does not exist: the node tests ship in the onnx wheel (pip install onnx==1.22.0)")
        }
        self.root = root
        testDirectories = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("test_") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The suite of the onnx package that `python3` imports.
    public static func installed(python: String = "python3") throws -> NodeTestSuite {
        let package = try PythonProcess.output(python, "-c", "import onnx, os; print(os.path.dirname(onnx.__file__))")
        return try NodeTestSuite(root: URL(fileURLWithPath: package).appendingPathComponent("backend/test/data/node"))
    }

    /// Runs every test whose name starts with `prefix` (all of them without one), in name order.
    public func run(matching prefix: String? = nil, progress: (NodeTestResult) -> Void = { _ in }) -> [NodeTestResult] {
        testDirectories
            .filter { prefix == nil || $0.lastPathComponent.hasPrefix(prefix!) }
            .map { directory in
                let result = NodeTestCase(directory: directory).run()
                progress(result)
                return result
            }
    }
}

public struct NodeTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs python for the suite's location and for onnxruntime's count (never in the engine's path).
enum PythonProcess {
    static func output(_ executable: String, _ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NodeTestError("\(executable) \(arguments.first ?? "") exited with status \(process.terminationStatus); run Tools/install-dependencies.sh --test-oracles")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
