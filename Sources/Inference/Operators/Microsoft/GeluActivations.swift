/// onnxruntime's fused activations (com.microsoft), which its transformer optimizer writes:
/// Gelu (the exact, erf form), BiasGelu (Gelu of A + B), FastGelu (the tanh approximation, of X +
/// an optional bias) and QuickGelu (x sigmoid(alpha x), alpha 1.702 by default). A bias holds one
/// value per element of the last axis. FastGelu and QuickGelu go through MLAS's tanh and logistic,
/// as in onnxruntime: near 0 their results are mostly those approximations' error.
struct GeluActivation: SingleOutputOperator, ShapePreserving {
    private struct Declaration {
        let function: UnaryFunction
        /// BiasGelu's B is required, FastGelu's bias optional, the others take none.
        let bias: BiasInput
    }

    private enum BiasInput { case none, optional, required }

    private static let catalogue: [String: @Sendable (NodeAttributes) throws -> Declaration] = [
        "Gelu": { _ in Declaration(function: .gelu(tanhApproximation: false), bias: .none) },
        "BiasGelu": { _ in Declaration(function: .gelu(tanhApproximation: false), bias: .required) },
        "FastGelu": { _ in Declaration(function: UnaryFunction(float: fastGelu), bias: .optional) },
        "QuickGelu": { attributes in
            let alpha = try attributes.float("alpha", default: 1.702)
            return Declaration(function: UnaryFunction(float: { $0 * MLASFunctions.logistic(alpha * $0) }), bias: .none)
        },
    ]

    /// x (1 + tanh(x (0.0356774 x^2 + 0.7978846))) / 2 as onnxruntime evaluates it, through MLAS's tanh.
    @Sendable private static func fastGelu(_ x: Float) -> Float {
        0.5 * x * (MLASFunctions.tanh(x * (0.035_677_408_136_300_125 * x * x + 0.797_884_560_802_865_4)) + 1)
    }

    private let function: ElementwiseFunction
    private let bias: BiasInput

    init(_ context: OperatorContext) throws {
        let declaration = try context.declaration(in: Self.catalogue)
        function = ElementwiseFunction(opType: context.node.opType, function: declaration.function)
        bias = declaration.bias
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let offsets: Tensor? = switch bias {
        case .none: nil
        case .optional: inputs.optional(1)
        case .required: try inputs.required(1)
        }
        guard let offsets else { return try function.apply(to: x) }
        guard offsets.count == x.shape.last, offsets.shape.count == 1 else {
            throw InferenceError.invalidOperand("the bias must be 1-D with one value per element of X's last axis \(x.shape), got \(offsets.shape)")
        }
        var values = try x.floatOperand("X")
        values.addRowBias(try offsets.floatOperand("bias"))
        return try function.apply(to: Tensor(shape: x.shape, floats: values, as: x.elementType))
    }
}
