public enum QuantizationError: Error, CustomStringConvertible, Equatable {
    case unreadableModel(path: String, reason: String)
    case malformedModel(String)
    case unsupportedOpset(found: Int, needed: Int, scheme: QuantizationScheme, why: String)
    case unwritableOutput(path: String, reason: String)
    /// A command-line option is missing, out of range, or does not fit the scheme.
    case invalidOption(String)
    /// A calibration or validation .npz cannot feed the model.
    case unusableData(path: String, reason: String)
    /// Our engine could not run the model on the calibration rows.
    case calibrationFailed(String)
    /// Accuracy-aware quantization found no recipe that meets the drop goal.
    case goalUnreachable(String)
    /// The model is quantized already (these operators say so).
    case alreadyQuantized(operators: [String])

    public var description: String {
        switch self {
        case let .unreadableModel(path, reason):
            "cannot read model at \(path): \(reason)"
        case let .malformedModel(reason):
            "malformed ONNX model: \(reason)"
        case let .unsupportedOpset(found, needed, scheme, why):
            "the model uses default-domain opset \(found); \(scheme.rawValue) needs opset \(needed) or later (\(why)); convert it with onnx.version_converter first"
        case let .unwritableOutput(path, reason):
            "cannot write quantized model to \(path): \(reason)"
        case let .invalidOption(reason):
            reason
        case let .unusableData(path, reason):
            "data \(path): \(reason)"
        case let .calibrationFailed(reason):
            "calibration failed: \(reason)"
        case let .goalUnreachable(reason):
            reason
        case let .alreadyQuantized(operators):
            "the model is already quantized (it has \(operators.joined(separator: ", "))); quantize the float model it was made from"
        }
    }
}
