/// SkipLayerNormalization (com.microsoft), the residual add and LayerNormalization onnxruntime's
/// transformer optimizer fuses: s = input + skip (+ bias), normalized over the last axis, times
/// gamma (+ beta). skip is shaped like input or broadcasts to it ([1, S, H], [S, H]). Outputs: the
/// normalized values, the mean and inverse standard deviation ([..., 1]) and s itself.
struct SkipLayerNormalization: Operator, ShapePreserving {
    private let normalization: LayerNormalization

    init(_ context: OperatorContext) throws {
        normalization = LayerNormalization(axis: -1, epsilon: try context.attributes.float("epsilon", default: 1e-12))
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let input = try inputs.required(0), skip = try inputs.required(1)
        let broadcasting = try Broadcasting(input.shape, skip.shape)
        guard broadcasting.shape == input.shape, let width = input.shape.last else {
            throw InferenceError.invalidOperand("skip \(skip.shape) must broadcast to input \(input.shape) (of rank 2 or more)")
        }
        var sum = broadcasting.apply(try input.floatOperand("input"), try skip.floatOperand("skip")) { $0 + $1 }
        if let bias = inputs.optional(4) {
            guard bias.count == width else { throw InferenceError.invalidOperand("bias must hold \(width) values, got \(bias.shape)") }
            sum.addRowBias(try bias.floatOperand("bias"))
        }
        let total = Tensor(shape: input.shape, floats: sum, as: input.elementType)
        try normalization.run([total, try inputs.required(2), inputs.optional(3)], into: &outputs)
        outputs.append(total)
    }
}
