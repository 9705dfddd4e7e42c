import Foundation

/// What a user asks first of a model: can the engine run it? Every node it cannot run (subgraphs
/// included) and every element type it cannot hold are listed at once, not only the first; when
/// both lists are empty, the session is built and any other load error is reported.
public struct ModelCheck: Sendable {
    public struct UnsupportedNode: Sendable, Equatable, CustomStringConvertible {
        public let opType: String
        public let domain: String
        public let opset: Int
        public let node: String

        public var description: String {
            "\(opType) (domain \(domain.isEmpty ? "ai.onnx" : domain), opset \(opset)) in node '\(node)'"
        }
    }

    public struct UnsupportedElementType: Sendable, Equatable, CustomStringConvertible {
        public let typeName: String
        public let tensor: String

        public var description: String { "\(typeName) in '\(tensor)'" }
    }

    /// Operator set version per domain ("" is ai.onnx).
    public let opsets: [String: Int]
    /// Element types the model's tensors use, by name (ONNX's names for the ones the engine lacks).
    public let elementTypes: [String]
    public let unsupportedNodes: [UnsupportedNode]
    public let unsupportedElementTypes: [UnsupportedElementType]
    /// Why the session still refused the model when every node and type is known; nil when it loaded.
    public let loadError: String?
    /// The loaded session, when the model runs.
    public let session: InferenceSession?

    public var canRun: Bool { session != nil }

    /// Checks model bytes. Throws only when they are not an ONNX model at all.
    public init(modelData: Data) throws {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: modelData)
        } catch {
            throw InferenceError.malformedModel("not a readable ONNX protobuf, the file may be truncated or corrupt (\(error))")
        }
        var opsets: [String: Int] = [:]
        for entry in model.opsetImport { opsets[ONNXModelDecoder.normalizedDomain(entry.domain)] = Int(entry.version) }
        var walk = GraphWalk(opsets: opsets)
        walk.visit(model.graph)
        self.opsets = opsets
        unsupportedNodes = walk.unsupportedNodes
        unsupportedElementTypes = walk.unsupportedTypes
        elementTypes = walk.typeNames.sorted()
        if unsupportedNodes.isEmpty && unsupportedElementTypes.isEmpty {
            do {
                session = try InferenceSession(modelData: modelData)
                loadError = nil
            } catch {
                session = nil
                loadError = "\(error)"
            }
        } else {
            session = nil
            loadError = nil
        }
    }

    /// One line per problem, for an error message or a refusal reason; empty when the model runs.
    public var problems: [String] {
        unsupportedNodes.map { "unsupported operator \($0)" }
            + unsupportedElementTypes.map { "unsupported element type \($0)" }
            + (loadError.map { [$0] } ?? [])
    }
}

/// Walks a graph and its subgraphs (If, Loop, Scan bodies), collecting node and type support.
private struct GraphWalk {
    let opsets: [String: Int]
    var unsupportedNodes: [ModelCheck.UnsupportedNode] = []
    var unsupportedTypes: [ModelCheck.UnsupportedElementType] = []
    var typeNames: Set<String> = []

    init(opsets: [String: Int]) { self.opsets = opsets }

    mutating func visit(_ graph: Onnx_GraphProto) {
        for initializer in graph.initializer { note(initializer.dataType, tensor: initializer.name) }
        for value in graph.input + graph.output + graph.valueInfo {
            if case .tensorType(let tensor)? = value.type.value { note(tensor.elemType, tensor: value.name) }
        }
        for (index, node) in graph.node.enumerated() {
            let domain = ONNXModelDecoder.normalizedDomain(node.domain)
            let name = node.name.isEmpty ? "#\(index) \(node.opType)" : node.name
            if !OperatorRegistry.supports(opType: node.opType, domain: domain) {
                unsupportedNodes.append(.init(opType: node.opType, domain: domain, opset: opsets[domain] ?? 0, node: name))
            }
            for attribute in node.attribute {
                if attribute.hasT { note(attribute.t.dataType, tensor: "\(name).\(attribute.name)") }
                if attribute.hasG { visit(attribute.g) }
                for subgraph in attribute.graphs { visit(subgraph) }
            }
        }
    }

    private mutating func note(_ code: Int32, tensor: String) {
        if let type = ElementType(onnxDataType: code) {
            typeNames.insert(type.rawValue)
            return
        }
        let name = Onnx_TensorProto.DataType(rawValue: Int(code)).map { "\($0)" } ?? "ONNX data type \(code)"
        typeNames.insert(name)
        if !unsupportedTypes.contains(where: { $0.typeName == name }) {
            unsupportedTypes.append(.init(typeName: name, tensor: tensor))
        }
    }
}
