import Foundation
import SwiftProtobuf

/// Decodes ONNX protobuf bytes into a `GraphDefinition`, checking the structure the planner relies on.
enum ONNXModelDecoder {
    static func decode(_ data: Data) throws -> GraphDefinition {
        guard !data.isEmpty else { throw InferenceError.malformedModel("the file is empty") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw InferenceError.malformedModel("not a readable ONNX protobuf, the file may be truncated or corrupt (\(error))")
        }
        guard model.hasGraph else { throw InferenceError.malformedModel("the model has no graph") }
        let opsets = try decodeOpsets(model.opsetImport)
        let graph = model.graph

        var constants: [String: Tensor] = [:]
        for initializer in graph.initializer {
            constants[initializer.name] = try Tensor(onnxTensor: initializer)
        }
        var nodes: [NodeDefinition] = []
        for (index, proto) in graph.node.enumerated() {
            let name = proto.name.isEmpty ? "#\(index) \(proto.opType)" : proto.name
            let node = NodeDefinition(
                name: name, opType: proto.opType, domain: normalizedDomain(proto.domain),
                inputs: proto.input, outputs: proto.output,
                attributes: try decodeAttributes(proto.attribute, node: name))
            if node.domain.isEmpty, node.opType == "Constant" {
                constants[try single(node.outputs, of: node)] = try constantValue(of: node)
            } else {
                nodes.append(node)
            }
        }
        let inputs = try graph.input.filter { constants[$0.name] == nil }.map(decodeValueInfo)
        let outputs = try graph.output.map(decodeValueInfo)
        guard !outputs.isEmpty else { throw InferenceError.malformedModel("the graph declares no outputs") }
        return GraphDefinition(nodes: nodes, constants: constants, inputs: inputs, outputs: outputs, opsets: opsets)
    }

    /// "ai.onnx" and "" both name the default domain.
    static func normalizedDomain(_ domain: String) -> String { domain == "ai.onnx" ? "" : domain }

    private static func decodeOpsets(_ imports: [Onnx_OperatorSetIdProto]) throws -> [String: Int] {
        var opsets: [String: Int] = [:]
        for entry in imports {
            opsets[normalizedDomain(entry.domain)] = Int(entry.version)
        }
        guard !opsets.isEmpty else {
            throw InferenceError.malformedModel("the model imports no operator set")
        }
        return opsets
    }

    private static func decodeValueInfo(_ info: Onnx_ValueInfoProto) throws -> TensorInfo {
        guard case .tensorType(let tensorType)? = info.type.value else {
            throw InferenceError.malformedModel("graph value '\(info.name)' is not a tensor")
        }
        guard let type = ElementType(onnxDataType: tensorType.elemType) else {
            throw InferenceError.unsupportedElementType(onnxDataType: tensorType.elemType, tensor: info.name)
        }
        let shape: [Int?] = tensorType.shape.dim.map { dim in
            if case .dimValue(let value)? = dim.value, value > 0 { Int(value) } else { nil }
        }
        return TensorInfo(name: info.name, elementType: type, shape: shape)
    }

    private static func decodeAttributes(_ protos: [Onnx_AttributeProto], node: String) throws -> NodeAttributes {
        var values: [String: AttributeValue] = [:]
        for attribute in protos {
            switch attribute.type {
            case .int: values[attribute.name] = .int(attribute.i)
            case .ints: values[attribute.name] = .ints(attribute.ints)
            case .float: values[attribute.name] = .float(attribute.f)
            case .floats: values[attribute.name] = .floats(attribute.floats)
            case .string: values[attribute.name] = .string(String(decoding: attribute.s, as: UTF8.self))
            case .tensor: values[attribute.name] = .tensor(try Tensor(onnxTensor: attribute.t))
            default:
                // Graph, sparse and type attributes belong to operators the engine refuses by type.
                continue
            }
        }
        return NodeAttributes(node: node, values: values)
    }

    private static func constantValue(of node: NodeDefinition) throws -> Tensor {
        let attributes = node.attributes
        guard attributes.values.count == 1 else {
            throw InferenceError.invalidAttribute(node: node.name, attribute: "value", reason: "must be the only attribute of a Constant")
        }
        switch attributes.values.first {
        case (_, .tensor(let tensor))?: return tensor
        case (_, .float(let value))?: return Tensor(shape: [], floats: [value])
        case (_, .floats(let values))?: return Tensor(shape: [values.count], floats: values)
        case (_, .int(let value))?: return Tensor(shape: [], int64s: [value])
        case (_, .ints(let values))?: return Tensor(shape: [values.count], int64s: values)
        default:
            throw InferenceError.invalidAttribute(node: node.name, attribute: "value", reason: "must hold a numeric tensor")
        }
    }

    private static func single(_ names: [String], of node: NodeDefinition) throws -> String {
        guard names.count == 1 else {
            throw InferenceError.malformedModel("node '\(node.name)' (\(node.opType)) must have exactly one output")
        }
        return names[0]
    }
}
