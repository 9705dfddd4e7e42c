public enum QuantizationError: Error, CustomStringConvertible, Equatable {
    case unreadableModel(path: String, reason: String)
    case malformedModel(String)
    case unsupportedOpset(Int)
    case unwritableOutput(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableModel(path, reason):
            "cannot read model at \(path): \(reason)"
        case let .malformedModel(reason):
            "malformed ONNX model: \(reason)"
        case let .unsupportedOpset(version):
            "the model uses default-domain opset \(version); int8-dynamic needs opset 11 or later (convert it with onnx.version_converter first)"
        case let .unwritableOutput(path, reason):
            "cannot write quantized model to \(path): \(reason)"
        }
    }
}
