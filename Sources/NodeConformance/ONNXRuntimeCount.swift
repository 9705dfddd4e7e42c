import Foundation

/// onnxruntime on the same suite (Tools/node-tests/onnxruntime_node_tests.py), for the side-by-side count.
public struct ONNXRuntimeCount: Sendable, Decodable {
    public let version: String
    public let total: Int
    public let loaded: Int
    public let passed: Int

    public static func measure(suite: NodeTestSuite, script: URL, python: String = "python3") throws -> ONNXRuntimeCount {
        let json = try PythonProcess.output(python, script.path, suite.root.path)
        return try JSONDecoder().decode(ONNXRuntimeCount.self, from: Data(json.utf8))
    }
}
