/// Everything that can go wrong loading or running a model, each naming what was wrong.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    case unreadableModel(path: String, reason: String)
    case unsupportedKernelPath(String)
    case malformedModel(String)
    case unsupportedOperator(opType: String, domain: String, node: String, opset: Int)
    /// ONNX defines the operator only from a later opset than the model imports.
    case operatorNotInOpset(opType: String, domain: String, node: String, opset: Int, firstOpset: Int)
    case unsupportedElementType(onnxDataType: Int32, tensor: String)
    case invalidAttribute(node: String, attribute: String, reason: String)
    case missingFeed(String)
    /// An array file (such as an .npz) lacks the array a model input needs.
    case missingArray(input: String, available: [String])
    case unknownFeed(name: String, expected: [String])
    case feedTypeMismatch(name: String, expected: ElementType, actual: ElementType)
    case feedShapeMismatch(name: String, expected: [Int?], actual: [Int])
    /// An operator's operands were wrong; `nodeFailed` wraps it with the node that ran.
    case invalidOperand(String)
    case nodeFailed(node: String, opType: String, reason: String)
    case unrepresentableValue(value: String, type: ElementType)

    /// An operand error's reason alone (the caller names the node), any other error's whole description.
    var operandReason: String {
        if case .invalidOperand(let reason) = self { reason } else { description }
    }

    public var description: String {
        switch self {
        case let .unreadableModel(path, reason):
            "cannot read model at \(path): \(reason)"
        case let .unsupportedKernelPath(name):
            "kernel path '\(name)' cannot run on this CPU (or does not exist): use \(FloatKernelPath.supportedNames.joined(separator: ", "))"
        case let .malformedModel(reason):
            "malformed ONNX model: \(reason)"
        case let .unsupportedOperator(opType, domain, node, opset):
            "unsupported operator '\(opType)' (domain '\(domain.isEmpty ? "ai.onnx" : domain)', opset \(opset)) in node '\(node)'"
        case let .operatorNotInOpset(opType, domain, node, opset, firstOpset):
            "node '\(node)': operator '\(opType)' does not exist in opset \(opset) of \(domain.isEmpty ? "ai.onnx" : domain) (it was added in opset \(firstOpset))"
        case let .unsupportedElementType(onnxDataType, tensor):
            "tensor '\(tensor)' has ONNX data type \(onnxDataType), which the engine does not support"
        case let .invalidAttribute(node, attribute, reason):
            "node '\(node)': attribute '\(attribute)' \(reason)"
        case let .missingFeed(name):
            "no value fed for model input '\(name)'"
        case let .missingArray(input, available):
            "the data has no array named '\(input)' for that model input (it holds: \(available.joined(separator: ", ")))"
        case let .unknownFeed(name, expected):
            "fed '\(name)', which is not a model input (inputs: \(expected.joined(separator: ", ")))"
        case let .feedTypeMismatch(name, expected, actual):
            "input '\(name)' expects \(expected.rawValue), got \(actual.rawValue)"
        case let .feedShapeMismatch(name, expected, actual):
            "input '\(name)' expects shape \(expected.map { $0.map(String.init) ?? "?" }), got \(actual)"
        case let .invalidOperand(reason):
            reason
        case let .nodeFailed(node, opType, reason):
            "node '\(node)' (\(opType)) failed: \(reason)"
        case let .unrepresentableValue(value, type):
            "value \(value) cannot be represented as \(type.rawValue)"
        }
    }
}
