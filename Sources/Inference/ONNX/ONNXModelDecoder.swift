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
        let graph = try decodeGraph(model.graph, opsets: opsets, isSubgraph: false)
        guard !graph.outputs.isEmpty else { throw InferenceError.malformedModel("the graph declares no outputs") }
        return graph
    }

    /// A graph or a subgraph: its constants (initializers and Constant nodes), nodes, inputs and outputs.
    private static func decodeGraph(_ graph: Onnx_GraphProto, opsets: [String: Int], isSubgraph: Bool) throws -> GraphDefinition {
        var constants: [String: Tensor] = [:]
        for initializer in graph.initializer {
            constants[initializer.name] = try Tensor(onnxTensor: initializer)
        }
        var nodes: [NodeDefinition] = []
        for (index, proto) in graph.node.enumerated() {
            let name = proto.name.isEmpty ? "#\(index) \(proto.opType)" : proto.name
            let attributes = try decodeAttributes(proto.attribute, node: name, opsets: opsets)
            // The outer values the node's subgraphs read become its implicit inputs.
            var implicit: [String] = []
            for (_, value) in attributes.values.sorted(by: { $0.key < $1.key }) {
                guard case .graph(let subgraph) = value else { continue }
                for outer in subgraph.outerNames where !implicit.contains(outer) { implicit.append(outer) }
            }
            let node = NodeDefinition(
                name: name, opType: proto.opType, domain: normalizedDomain(proto.domain),
                inputs: proto.input + implicit, outputs: proto.output, attributes: attributes, implicitInputCount: implicit.count)
            if node.domain.isEmpty, node.opType == "Constant" {
                constants[try single(node.outputs, of: node)] = try constantValue(of: node)
            } else {
                nodes.append(node)
            }
        }
        let formalInputs = graph.input.filter { constants[$0.name] == nil }
        // A subgraph's values may leave their types to inference (a Loop body's often do).
        let declared = { (info: Onnx_ValueInfoProto) in !isSubgraph || info.type.value != nil }
        return GraphDefinition(
            nodes: nodes, constants: constants,
            inputs: try formalInputs.filter(declared).map(decodeValueInfo), outputs: try graph.output.filter(declared).map(decodeValueInfo),
            inputNames: formalInputs.map(\.name), outputNames: graph.output.map(\.name), opsets: opsets)
    }

    /// The names a subgraph reads without defining them: values of the enclosing graphs.
    private static func outerNames(of graph: GraphDefinition) -> [String] {
        var defined = Set(graph.inputNames).union(graph.constants.keys)
        for node in graph.nodes { defined.formUnion(node.outputs) }
        var outer: [String] = []
        for node in graph.nodes {
            for name in node.inputs where !name.isEmpty && !defined.contains(name) && !outer.contains(name) { outer.append(name) }
        }
        for output in graph.outputNames where !defined.contains(output) && !outer.contains(output) { outer.append(output) }
        return outer
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

    /// A tensor, a sequence of tensors, an optional of either, a map of scalars or a sequence of
    /// such maps; sparse tensors and other nestings are refused.
    private static func decodeValueInfo(_ info: Onnx_ValueInfoProto) throws -> TensorInfo {
        var declared = info.type.value, container = TensorInfo.Container.tensor
        var keyType: ElementType?
        if case .optionalType(let optional)? = declared {
            declared = optional.elemType.value
            container = .optionalTensor
        }
        if case .sequenceType(let sequence)? = declared {
            declared = sequence.elemType.value
            container = container == .optionalTensor ? .optionalSequence : .sequence
        }
        if case .mapType(let map)? = declared, container == .tensor || container == .sequence {
            guard let key = ElementType(onnxDataType: map.keyType) else {
                throw InferenceError.unsupportedElementType(onnxDataType: map.keyType, tensor: info.name)
            }
            (declared, keyType) = (map.valueType.value, key)
            container = container == .tensor ? .map : .mapSequence
        }
        guard case .tensorType(let tensorType)? = declared else {
            throw InferenceError.malformedModel(
                "graph value '\(info.name)' is not a tensor, a sequence of tensors, an optional of either, a map or a sequence of maps")
        }
        guard let type = ElementType(onnxDataType: tensorType.elemType) else {
            throw InferenceError.unsupportedElementType(onnxDataType: tensorType.elemType, tensor: info.name)
        }
        let shape: [Int?] = tensorType.shape.dim.map { dim in
            if case .dimValue(let value)? = dim.value, value > 0 { Int(value) } else { nil }
        }
        return TensorInfo(name: info.name, elementType: type, shape: shape, container: container, keyType: keyType)
    }

    private static func decodeAttributes(_ protos: [Onnx_AttributeProto], node: String, opsets: [String: Int]) throws -> NodeAttributes {
        var values: [String: AttributeValue] = [:]
        for attribute in protos {
            switch attribute.type {
            case .int: values[attribute.name] = .int(attribute.i)
            case .ints: values[attribute.name] = .ints(attribute.ints)
            case .float: values[attribute.name] = .float(attribute.f)
            case .floats: values[attribute.name] = .floats(attribute.floats)
            case .string: values[attribute.name] = .string(String(decoding: attribute.s, as: UTF8.self))
            case .strings: values[attribute.name] = .strings(attribute.strings.map { String(decoding: $0, as: UTF8.self) })
            case .tensor: values[attribute.name] = .tensor(try Tensor(onnxTensor: attribute.t))
            case .graph:
                let graph = try decodeGraph(attribute.g, opsets: opsets, isSubgraph: true)
                values[attribute.name] = .graph(Subgraph(graph: graph, outerNames: outerNames(of: graph)))
            default:
                // Sparse, type and graph-list attributes belong to operators the engine refuses by type.
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
