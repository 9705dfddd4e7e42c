import CQuantKernels

/// The activation a FusedConv (com.microsoft, what onnxruntime's optimizer writes, and what
/// `fuseConvActivations` makes of Conv -> Relu) applies to each output as the convolution writes it,
/// named by its `activation` attribute with its parameters in `activation_params`.
enum ConvActivation: Sendable, Equatable {
    case relu
    case clip(low: Float, high: Float)
    case leakyRelu(alpha: Float)
    case sigmoid
    case tanh
    case hardSigmoid(alpha: Float, beta: Float)

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        let name = try attributes.string("activation", default: "")
        let parameters = try attributes.floats("activation_params") ?? []
        func parameter(_ index: Int) throws -> Float {
            guard index < parameters.count else {
                throw InferenceError.invalidAttribute(node: context.node.name, attribute: "activation_params",
                                                      reason: "\(name) needs \(index + 1) value(s), got \(parameters.count)")
            }
            return parameters[index]
        }
        switch name {
        case "Relu": self = .relu
        case "Clip": self = .clip(low: try parameter(0), high: try parameter(1))
        case "LeakyRelu": self = .leakyRelu(alpha: try parameter(0))
        case "Sigmoid": self = .sigmoid
        case "Tanh": self = .tanh
        case "HardSigmoid": self = .hardSigmoid(alpha: try parameter(0), beta: try parameter(1))
        default:
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "activation",
                                                  reason: "must be Relu, Clip, LeakyRelu, Sigmoid, Tanh or HardSigmoid, got '\(name)'")
        }
    }

    /// Applies the activation to `count` values in place.
    func apply(to values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            // A plain comparison, as Relu's: NaN passes through, and the loop vectorises.
            for i in 0..<count { values[i] = values[i] < 0 ? 0 : values[i] }
        case .clip(let low, let high):
            for i in 0..<count { values[i] = values[i] < low ? low : values[i] > high ? high : values[i] }
        case .leakyRelu(let alpha):
            for i in 0..<count { values[i] = values[i] >= 0 ? values[i] : values[i] * alpha }
        case .sigmoid:
            qf_sigmoid_f32(values, values, count)
        case .tanh:
            qf_tanh_f32(values, values, count)
        case .hardSigmoid(let alpha, let beta):
            for i in 0..<count { values[i] = min(max(alpha * values[i] + beta, 0), 1) }
        }
    }
}
