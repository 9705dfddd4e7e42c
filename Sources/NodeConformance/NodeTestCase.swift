import Foundation
import Inference

/// The outcome of one node test.
public struct NodeTestResult: Sendable {
    public let name: String
    /// Why it failed, or nil when every data set's outputs matched.
    public let failure: String?
    /// Whether an output's shape came from the operators' shape rules at load, and so was held
    /// to the shape the kernel produced.
    public let checkedShapeRule: Bool

    public var passed: Bool { failure == nil }
}

/// One node test: loads the model, feeds each data set's inputs and compares every output.
struct NodeTestCase {
    let directory: URL

    var name: String { directory.lastPathComponent }

    func run() -> NodeTestResult {
        var checkedShapeRule = false
        let failure = failure(checkedShapeRule: &checkedShapeRule)
        return NodeTestResult(name: name, failure: failure, checkedShapeRule: checkedShapeRule)
    }

    private func failure(checkedShapeRule: inout Bool) -> String? {
        do {
            let session = try InferenceSession(modelData: try Data(contentsOf: directory.appendingPathComponent("model.onnx")))
            checkedShapeRule = !session.staticOutputShapes.isEmpty
            for dataSet in try dataSets() {
                var feeds: [String: Value] = [:]
                for (index, input) in session.inputs.enumerated() {
                    let file = dataSet.appendingPathComponent("input_\(index).pb")
                    if let value = try Self.value(file, declared: input) { feeds[input.name] = value }
                }
                let results = try session.run(values: feeds)
                for (index, output) in session.outputs.enumerated() {
                    let expected = try Self.value(dataSet.appendingPathComponent("output_\(index).pb"), declared: output)
                    if let mismatch = NodeTestTolerance.mismatch(results[output.name], expected) {
                        return "\(dataSet.lastPathComponent) output '\(output.name)': \(mismatch)"
                    }
                    // The operator's shape rule is held to its kernel on every test.
                    if let rule = session.staticOutputShapes[output.name], case .tensor(let tensor)? = results[output.name],
                       !StaticShapes.admits(rule, tensor.shape) {
                        return "output '\(output.name)': the shape rule gives \(StaticShapes.describe(rule)), the kernel \(tensor.shape)"
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

    /// A data file as the graph declares the value: a TensorProto, a SequenceProto or an
    /// OptionalProto (nil: an optional without a value).
    private static func value(_ file: URL, declared: TensorInfo) throws -> Value? {
        let data = try Data(contentsOf: file)
        switch declared.container {
        case .tensor:
            return .tensor(try Tensor(onnxTensor: Onnx_TensorProto(serializedBytes: data)))
        case .sequence:
            return .sequence(try sequence(Onnx_SequenceProto(serializedBytes: data), declared: declared))
        case .map:
            return .map(try map(Onnx_MapProto(serializedBytes: data)))
        case .mapSequence:
            return .maps(try Onnx_SequenceProto(serializedBytes: data).mapValues.map(map))
        case .optionalTensor, .optionalSequence:
            let optional = try Onnx_OptionalProto(serializedBytes: data)
            if optional.hasTensorValue { return .tensor(try Tensor(onnxTensor: optional.tensorValue)) }
            if optional.hasSequenceValue { return .sequence(try sequence(optional.sequenceValue, declared: declared)) }
            return nil
        }
    }

    /// A MapProto: int64 or string keys, and a sequence of one scalar tensor per value.
    private static func map(_ proto: Onnx_MapProto) throws -> TensorMap {
        let keys = proto.stringKeys.isEmpty
            ? Tensor(shape: [proto.keys.count], int64s: proto.keys)
            : Tensor(shape: [proto.stringKeys.count], strings: proto.stringKeys.map { String(decoding: $0, as: UTF8.self) })
        let scalars = try proto.values.tensorValues.map(Tensor.init(onnxTensor:))
        guard let first = scalars.first else { return try TensorMap(keys: keys, values: Tensor(shape: [0], floats: [])) }
        let shape = [scalars.count]
        let values = if first.elementType == .string {
            Tensor(shape: shape, strings: scalars.map { $0.strings?.first ?? "" })
        } else if first.elementType.isFloatingPoint {
            try Tensor(shape: shape, floats: scalars.map { $0.floats[0] }).converted(to: first.elementType)
        } else {
            try Tensor(shape: shape, int64s: scalars.map { $0.int64s[0] }).converted(to: first.elementType)
        }
        return try TensorMap(keys: keys, values: values)
    }

    private static func sequence(_ proto: Onnx_SequenceProto, declared: TensorInfo) throws -> TensorSequence {
        let tensors = try proto.tensorValues.map(Tensor.init(onnxTensor:))
        return try TensorSequence(elementType: tensors.first?.elementType ?? declared.elementType, tensors: tensors)
    }
}
