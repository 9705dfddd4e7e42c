/// A model graph decoded from ONNX, independent of the protobuf types, ready to plan.
struct GraphDefinition: Sendable {
    var nodes: [NodeDefinition]
    /// Initializers and folded `Constant` nodes, FP16 widened to FP32 storage.
    var constants: [String: Tensor]
    var inputs: [TensorInfo]
    var outputs: [TensorInfo]
    /// Every input's and output's name, in order. A subgraph may leave their types undeclared (a
    /// Loop body's), so its `inputs` and `outputs` list only the typed ones; its plan needs the names.
    var inputNames: [String]
    var outputNames: [String]
    /// Operator set version per domain; the default domain is the empty string.
    var opsets: [String: Int]
}

struct NodeDefinition: Sendable {
    let name: String
    let opType: String
    let domain: String
    /// Value names; an empty name is an omitted optional operand.
    let inputs: [String]
    let outputs: [String]
    let attributes: NodeAttributes
    /// How many of `inputs`, at the end, are outer-scope values its subgraphs read (If, Loop, Scan):
    /// listed as inputs so that the plan keeps them alive and the rewrites see them read.
    var implicitInputCount = 0
    /// Written by a load-time rewrite (a fused LayerNormalization or Gelu in a model whose opset
    /// predates them): the engine's own node, not held to ONNX's schema for the model's opset.
    var isRewritten = false
}

/// A graph attribute (If's branches, Loop's and Scan's bodies), decoded, with the values it reads
/// from enclosing graphs.
struct Subgraph: Sendable {
    let graph: GraphDefinition
    /// Names read by its nodes (or its subgraphs' nodes) that it does not define, in first-read order.
    let outerNames: [String]
}

enum AttributeValue: Sendable {
    case int(Int64)
    case ints([Int64])
    case float(Float)
    case floats([Float])
    case string(String)
    case strings([String])
    case tensor(Tensor)
    case graph(Subgraph)
}

/// A node's attributes with typed, error-reporting lookups.
struct NodeAttributes: Sendable {
    let node: String
    let values: [String: AttributeValue]

    func int(_ name: String) throws -> Int? {
        switch values[name] {
        case nil: return nil
        case .int(let value)?: return Int(value)
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be an integer")
        }
    }

    func int(_ name: String, default defaultValue: Int) throws -> Int {
        try int(name) ?? defaultValue
    }

    func requiredInt(_ name: String) throws -> Int {
        guard let value = try int(name) else {
            throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "is required")
        }
        return value
    }

    func float(_ name: String) throws -> Float? {
        switch values[name] {
        case nil: return nil
        case .float(let value)?: return value
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a float")
        }
    }

    func float(_ name: String, default defaultValue: Float) throws -> Float {
        try float(name) ?? defaultValue
    }

    func string(_ name: String, default defaultValue: String) throws -> String {
        switch values[name] {
        case nil: return defaultValue
        case .string(let value)?: return value
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a string")
        }
    }

    /// A string attribute naming one of an enumeration's cases; another name is refused, listing them.
    func choice<Choice: RawRepresentable<String> & CaseIterable>(_ name: String, default defaultValue: Choice) throws -> Choice {
        let text = try string(name, default: defaultValue.rawValue)
        guard let value = Choice(rawValue: text) else {
            let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be one of \(names), got '\(text)'")
        }
        return value
    }

    func strings(_ name: String) throws -> [String]? {
        switch values[name] {
        case nil: return nil
        case .strings(let values)?: return values
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a list of strings")
        }
    }

    func ints(_ name: String) throws -> [Int]? {
        switch values[name] {
        case nil: return nil
        case .ints(let values)?: return values.map { Int($0) }
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a list of integers")
        }
    }

    func floats(_ name: String) throws -> [Float]? {
        switch values[name] {
        case nil: return nil
        case .floats(let values)?: return values
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a list of floats")
        }
    }

    func graph(_ name: String) throws -> Subgraph {
        switch values[name] {
        case .graph(let subgraph)?: return subgraph
        case nil: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "is required")
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a graph")
        }
    }

    func tensor(_ name: String) throws -> Tensor? {
        switch values[name] {
        case nil: return nil
        case .tensor(let value)?: return value
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a tensor")
        }
    }
}
