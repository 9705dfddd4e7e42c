import Foundation
import Inference

/// The outcome of one node test.
public struct NodeTestResult: Sendable {
    public let name: String
    /// Why it failed, or nil when every data set's outputs matched.
    public let failure: String?

    public var passed: Bool { failure == nil }
}

/// One node test: loads the model, feeds each data set's inputs and compares every output.
struct NodeTestCase {
    let directory: URL

    var name: String { directory.lastPathComponent }

    func run() -> NodeTestResult {
        NodeTestResult(name: name, failure: failure())
    }

    private func failure() -> String? {
        do {
            let modelData = try Data(contentsOf: directory.appendingPathComponent("model.onnx"))
            let model = try Onnx_ModelProto(serializedBytes: modelData)
            if let output = model.graph.output.first(where: { $0.type.value != nil && !$0.type.isTensor }) {
                return "output '\(output.name)' is a \(output.type.kindName), not a tensor"
            }
            let session = try InferenceSession(modelData: modelData)
            for dataSet in try dataSets() {
                var feeds: [String: Tensor] = [:]
                for (index, input) in session.inputs.enumerated() {
                    feeds[input.name] = try Self.tensor(dataSet.appendingPathComponent("input_\(index).pb"))
                }
                let results = try session.run(feeds)
                for (index, output) in session.outputs.enumerated() {
                    let expected = try Self.tensor(dataSet.appendingPathComponent("output_\(index).pb"))
                    guard let actual = results[output.name] else { return "output '\(output.name)' missing" }
                    if let mismatch = NodeTestTolerance.mismatch(actual, expected) {
                        return "\(dataSet.lastPathComponent) output '\(output.name)': \(mismatch)"
                    }
                }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func dataSets() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("test_data_set_") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    private static func tensor(_ file: URL) throws -> Tensor {
        try Tensor(onnxTensor: Onnx_TensorProto(serializedBytes: Data(contentsOf: file)))
    }
}

extension Onnx_TypeProto {
    var isTensor: Bool {
        if case .tensorType = value { return true }
        return false
    }

    var kindName: String {
        switch value {
        case .tensorType: "tensor"
        case .sequenceType: "sequence"
        case .mapType: "map"
        case .optionalType: "optional"
        case .sparseTensorType: "sparse tensor"
        case nil: "value of no declared type"
        }
    }
}
