/// A model graph decoded from ONNX, independent of the protobuf types, ready to plan.
struct GraphDefinition: Sendable {
    var nodes: [NodeDefinition]
    /// Initializers and folded `Constant` nodes, FP16 widened to FP32 storage.
    var constants: [String: Tensor]
    var inputs: [TensorInfo]
    var outputs: [TensorInfo]
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
}

enum AttributeValue: Sendable {
    case int(Int64)
    case ints([Int64])
    case float(Float)
    case floats([Float])
    case string(String)
    case tensor(Tensor)
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

    func float(_ name: String, default defaultValue: Float) throws -> Float {
        switch values[name] {
        case nil: return defaultValue
        case .float(let value)?: return value
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a float")
        }
    }

    func string(_ name: String, default defaultValue: String) throws -> String {
        switch values[name] {
        case nil: return defaultValue
        case .string(let value)?: return value
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a string")
        }
    }

    func ints(_ name: String) throws -> [Int]? {
        switch values[name] {
        case nil: return nil
        case .ints(let values)?: return values.map { Int($0) }
        case _?: throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be a list of integers")
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
