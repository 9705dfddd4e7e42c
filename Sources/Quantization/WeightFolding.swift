import Foundation
import Inference

/// Weights an exporter computes from constants (ConstantOfShape, a Transpose or Reshape of an
/// initializer, a Cast of one) become initializers before quantization, so the quantizer sees them
/// as the weights they are. Each node is computed by the engine itself, so the value is exactly the
/// one the float model would compute.
enum WeightFolding {
    /// Ops never folded: their outputs differ from run to run, or they hold subgraphs.
    private static let unfoldable: Set<String> = [
        "RandomUniform", "RandomNormal", "RandomUniformLike", "RandomNormalLike", "Multinomial", "Bernoulli",
        "If", "Loop", "Scan", "SequenceMap",
    ]

    static func fold(_ graph: inout Onnx_GraphProto, opsets: [Onnx_OperatorSetIdProto]) {
        var constants = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let graphOutputs = Set(graph.output.map(\.name))
        var kept: [Onnx_NodeProto] = []
        for node in graph.node {
            let inputs = node.input.filter { !$0.isEmpty }
            guard !inputs.isEmpty, inputs.allSatisfy({ constants[$0] != nil }), !unfoldable.contains(node.opType),
                  GraphEditing.isDefaultDomain(node), node.output.allSatisfy({ !graphOutputs.contains($0) }),
                  let values = try? evaluate(node, constants: constants, opsets: opsets) else {
                kept.append(node)
                continue
            }
            for (name, tensor) in values {
                constants[name] = tensor
                graph.initializer.append(tensor)
            }
        }
        graph.node = kept
    }

    /// The node's outputs, computed by a session holding only it and its constant inputs.
    private static func evaluate(_ node: Onnx_NodeProto, constants: [String: Onnx_TensorProto],
                                 opsets: [Onnx_OperatorSetIdProto]) throws -> [(String, Onnx_TensorProto)] {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.opsetImport = opsets
        model.graph.name = "fold"
        model.graph.node = [node]
        model.graph.initializer = node.input.filter { !$0.isEmpty }.compactMap { constants[$0] }
        model.graph.output = node.output.filter { !$0.isEmpty }.map { name in
            // The declared type is not checked against the result: the result's own type is written.
            var info = Onnx_ValueInfoProto()
            info.name = name
            info.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            return info
        }
        let outputs = try InferenceSession(modelData: try model.serializedBytes()).run([:])
        return try model.graph.output.map { info in
            guard let tensor = outputs[info.name] else { throw QuantizationError.malformedModel("folding \(node.opType) gave no '\(info.name)'") }
            return (info.name, tensor.onnxTensor(named: info.name))
        }
    }
}
