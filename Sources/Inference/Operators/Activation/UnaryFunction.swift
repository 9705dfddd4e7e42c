import CQuantKernels
import Foundation

/// One elementwise function of one operand, declared once: its FP32 form, its exact integer and
/// boolean forms where ONNX defines them, and the C kernels' vectorised form where there is one (same
/// results within 2e-7). The result has the operand's type.
struct UnaryFunction: Sendable {
    typealias VectorKernel = @Sendable (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void

    var float: (@Sendable (Float) -> Float)? = nil
    var integer: (@Sendable (Int64) -> Int64)? = nil
    var bool: (@Sendable (Bool) -> Bool)? = nil
    var vector: VectorKernel? = nil

    /// Every one-operand function by ONNX op type; each reads its attributes once, at load.
    static let catalogue: [String: @Sendable (NodeAttributes) throws -> UnaryFunction] = [
        // Int64.min has no positive twin; it stays, as in numpy.
        "Abs": { _ in UnaryFunction(float: { abs($0) }, integer: { $0 == .min ? $0 : abs($0) }) },
        "Neg": { _ in UnaryFunction(float: { -$0 }, integer: { 0 &- $0 }) },
        "Sign": { _ in UnaryFunction(float: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, integer: { $0.signum() }) },
        "Exp": { _ in UnaryFunction(float: { exp($0) }, vector: { qf_exp_f32($0, $1, $2) }) },
        "Log": { _ in UnaryFunction(float: { log($0) }) },
        "Sqrt": { _ in UnaryFunction(float: { sqrt($0) }) },
        "Reciprocal": { _ in UnaryFunction(float: { 1 / $0 }) },
        "Floor": { _ in UnaryFunction(float: { $0.rounded(.down) }) },
        "Ceil": { _ in UnaryFunction(float: { $0.rounded(.up) }) },
        "Round": { _ in UnaryFunction(float: { $0.rounded(.toNearestOrEven) }) },
        "Sin": { _ in UnaryFunction(float: { sin($0) }) },
        "Cos": { _ in UnaryFunction(float: { cos($0) }) },
        "Tan": { _ in UnaryFunction(float: { tan($0) }) },
        "Asin": { _ in UnaryFunction(float: { asin($0) }) },
        "Acos": { _ in UnaryFunction(float: { acos($0) }) },
        "Atan": { _ in UnaryFunction(float: { atan($0) }) },
        "Sinh": { _ in UnaryFunction(float: { sinh($0) }) },
        "Cosh": { _ in UnaryFunction(float: { cosh($0) }) },
        "Asinh": { _ in UnaryFunction(float: { asinh($0) }) },
        "Acosh": { _ in UnaryFunction(float: { acosh($0) }) },
        "Atanh": { _ in UnaryFunction(float: { atanh($0) }) },
        "Tanh": { _ in UnaryFunction(float: { tanh($0) }, vector: { qf_tanh_f32($0, $1, $2) }) },
        "Erf": { _ in UnaryFunction(float: { erf($0) }, vector: { qf_erf_f32($0, $1, $2) }) },
        "Sigmoid": { _ in UnaryFunction(float: sigmoid, vector: { qf_sigmoid_f32($0, $1, $2) }) },
        "Softplus": { _ in UnaryFunction(float: softplus) },
        "Softsign": { _ in UnaryFunction(float: { $0 / (1 + abs($0)) }) },
        "Mish": { _ in UnaryFunction(float: { $0 * tanh(softplus($0)) }) },
        "Swish": { attributes in
            let alpha = try attributes.float("alpha", default: 1)
            return UnaryFunction(float: { $0 * sigmoid(alpha * $0) })
        },
        "LeakyRelu": { attributes in
            let alpha = try attributes.float("alpha", default: 0.01)
            return UnaryFunction(float: { $0 < 0 ? alpha * $0 : $0 })
        },
        "Elu": { attributes in
            let alpha = try attributes.float("alpha", default: 1)
            return UnaryFunction(float: { $0 < 0 ? alpha * (exp($0) - 1) : $0 })
        },
        "Celu": { attributes in
            let alpha = try attributes.float("alpha", default: 1)
            return UnaryFunction(float: { max(0, $0) + min(0, alpha * (exp($0 / alpha) - 1)) })
        },
        "Selu": { attributes in
            let alpha = try attributes.float("alpha", default: 1.673_263_2), gamma = try attributes.float("gamma", default: 1.050_701)
            return UnaryFunction(float: { gamma * ($0 <= 0 ? alpha * (exp($0) - 1) : $0) })
        },
        "ThresholdedRelu": { attributes in
            let alpha = try attributes.float("alpha", default: 1)
            return UnaryFunction(float: { $0 > alpha ? $0 : 0 })
        },
        "HardSigmoid": { attributes in
            let alpha = try attributes.float("alpha", default: 0.2), beta = try attributes.float("beta", default: 0.5)
            return UnaryFunction(float: { max(0, min(1, alpha * $0 + beta)) })
        },
        "HardSwish": { _ in UnaryFunction(float: { $0 * max(0, min(1, $0 / 6 + 0.5)) }, vector: { qf_hard_swish_f32($0, $1, $2) }) },
        "Shrink": { attributes in
            let lambda = try attributes.float("lambd", default: 0.5), bias = try attributes.float("bias", default: 0)
            let shrink: @Sendable (Float) -> Float = { $0 < -lambda ? $0 + bias : ($0 > lambda ? $0 - bias : 0) }
            return UnaryFunction(float: shrink, integer: { Int64(shrink(Float($0))) })
        },
        "Not": { _ in UnaryFunction(bool: { !$0 }) },
        // Computed on Int64 and wrapped to the operand's width: the same bits as ~ in that width.
        "BitwiseNot": { _ in UnaryFunction(integer: { ~$0 }) },
        "Gelu": { attributes in
            switch try attributes.string("approximate", default: "none") {
            case "none": gelu(tanhApproximation: false)
            case "tanh": gelu(tanhApproximation: true)
            case let other:
                throw InferenceError.invalidAttribute(node: attributes.node, attribute: "approximate", reason: "must be 'none' or 'tanh', got '\(other)'")
            }
        },
    ]

    /// x (1 + erf(x / sqrt 2)) / 2 (also onnxruntime's Gelu and BiasGelu), or its tanh approximation.
    static func gelu(tanhApproximation: Bool) -> UnaryFunction {
        tanhApproximation
            ? UnaryFunction(float: { 0.5 * $0 * (1 + tanh(0.797_884_56 * ($0 + 0.044_715 * $0 * $0 * $0))) })
            : UnaryFunction(float: { 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }, vector: { qf_gelu_erf_f32($0, $1, $2) })
    }

    /// Split by sign so exp never overflows.
    @Sendable private static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    @Sendable private static func softplus(_ x: Float) -> Float {
        x > 20 ? x : log1p(exp(x))
    }
}
