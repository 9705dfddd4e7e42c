/// onnxruntime's fused activations (com.microsoft), which its transformer optimizer writes:
/// Gelu (the exact, erf form), BiasGelu (Gelu of A + B), FastGelu (the tanh approximation, of X +
/// an optional bias) and QuickGelu (x sigmoid(alpha x), alpha 1.702 by default). A bias holds one
/// value per element of the last axis.
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
        "FastGelu": { _ in Declaration(function: .gelu(tanhApproximation: true), bias: .optional) },
        "QuickGelu": { attributes in Declaration(function: .swish(alpha: try attributes.float("alpha", default: 1.702)), bias: .none) },
    ]

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
