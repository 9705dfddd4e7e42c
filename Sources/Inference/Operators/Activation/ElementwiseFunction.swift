import CQuantKernels
import Foundation

/// One-operand floating-point functions (activations and math), computed in FP32; the result keeps
/// the operand's type (Abs, Neg and Sign also take integers, computed exactly). Attributes such as
/// LeakyRelu's alpha are read once at load.
struct ElementwiseFunction: Operator {
    static let opTypes = [
        "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Sign",
        "Sigmoid", "Tanh", "Erf", "Softplus", "Softsign", "LeakyRelu", "Elu", "Selu", "Celu",
        "HardSigmoid", "HardSwish", "ThresholdedRelu", "Gelu",
    ]

    private typealias VectorKernel = @Sendable (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void

    private let function: @Sendable (Float) -> Float
    private let integerFunction: (@Sendable (Int64) -> Int64)?
    /// The C kernels' vectorised version, where there is one (same results within 2e-7).
    private let vectorKernel: VectorKernel?

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        let exactGelu = context.node.opType == "Gelu" && (try? attributes.string("approximate", default: "none")) == "none"
        vectorKernel = switch context.node.opType {
        case "Exp": { qf_exp_f32($0, $1, $2) }
        case "Erf": { qf_erf_f32($0, $1, $2) }
        case "Tanh": { qf_tanh_f32($0, $1, $2) }
        case "Sigmoid": { qf_sigmoid_f32($0, $1, $2) }
        case "Gelu" where exactGelu: { qf_gelu_erf_f32($0, $1, $2) }
        case "HardSwish": { qf_hard_swish_f32($0, $1, $2) }
        default: nil
        }
        integerFunction = switch context.node.opType {
        case "Abs": { $0 == .min ? $0 : abs($0) } // Int64.min has no positive twin; it stays, as in numpy
        case "Neg": { 0 &- $0 }
        case "Sign": { $0.signum() }
        default: nil
        }
        switch context.node.opType {
        case "Abs": function = { abs($0) }
        case "Neg": function = { -$0 }
        case "Exp": function = { exp($0) }
        case "Log": function = { log($0) }
        case "Sqrt": function = { sqrt($0) }
        case "Reciprocal": function = { 1 / $0 }
        case "Floor": function = { $0.rounded(.down) }
        case "Ceil": function = { $0.rounded(.up) }
        case "Round": function = { $0.rounded(.toNearestOrEven) }
        case "Sin": function = { sin($0) }
        case "Cos": function = { cos($0) }
        case "Sign": function = { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case "Sigmoid": function = Self.sigmoid
        case "Tanh": function = { tanh($0) }
        case "Erf": function = { erf($0) }
        case "Softplus": function = { $0 > 20 ? $0 : log1p(exp($0)) }
        case "Softsign": function = { $0 / (1 + abs($0)) }
        case "LeakyRelu":
            let alpha = try attributes.float("alpha", default: 0.01)
            function = { $0 < 0 ? alpha * $0 : $0 }
        case "Elu":
            let alpha = try attributes.float("alpha", default: 1)
            function = { $0 < 0 ? alpha * (exp($0) - 1) : $0 }
        case "Celu":
            let alpha = try attributes.float("alpha", default: 1)
            function = { max(0, $0) + min(0, alpha * (exp($0 / alpha) - 1)) }
        case "Selu":
            let alpha = try attributes.float("alpha", default: 1.673_263_2), gamma = try attributes.float("gamma", default: 1.050_701)
            function = { gamma * ($0 <= 0 ? alpha * (exp($0) - 1) : $0) }
        case "ThresholdedRelu":
            let alpha = try attributes.float("alpha", default: 1)
            function = { $0 > alpha ? $0 : 0 }
        case "HardSigmoid":
            let alpha = try attributes.float("alpha", default: 0.2), beta = try attributes.float("beta", default: 0.5)
            function = { max(0, min(1, alpha * $0 + beta)) }
        case "HardSwish":
            function = { $0 * max(0, min(1, $0 / 6 + 0.5)) }
        case "Gelu":
            function = try Self.gelu(approximation: attributes.string("approximate", default: "none"), node: context.node.name)
        default:
            throw InferenceError.unsupportedOperator(opType: context.node.opType, domain: context.node.domain,
                                                     node: context.node.name, opset: context.opset)
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        if let integerFunction, !x.elementType.isFloatingPoint, x.elementType != .bool {
            return [try Tensor(shape: x.shape, int64s: x.int64s.map(integerFunction)).converted(to: x.elementType)]
        }
        let operand = try x.floatOperand("X")
        let values = if let vectorKernel {
            [Float](recycledCapacity: operand.count) { output, initialized in
                vectorKernel(operand, output.baseAddress, operand.count)
                initialized = operand.count
            }
        } else {
            operand.map(function)
        }
        return [Tensor(shape: x.shape, floats: values, as: x.elementType)]
    }

    @Sendable private static func sigmoid(_ x: Float) -> Float {
        // Split by sign so exp never overflows.
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    private static func gelu(approximation: String, node: String) throws -> @Sendable (Float) -> Float {
        switch approximation {
        case "none": return { 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }
        case "tanh": return { 0.5 * $0 * (1 + tanh(0.797_884_56 * ($0 + 0.044_715 * $0 * $0 * $0))) }
        default: throw InferenceError.invalidAttribute(node: node, attribute: "approximate", reason: "must be 'none' or 'tanh', got '\(approximation)'")
        }
    }
}
