/// QLinearConcat (com.microsoft): Y_scale, Y_zero_point, then one (X, X_scale, X_zero_point) triple
/// per uint8 or int8 input, concatenated along `axis` into Y's quantization. As in onnxruntime, an
/// input quantized like Y is copied and any other is requantized through a 256-entry table
/// (dequantize, then QuantizeLinear's rounding into Y's scale and zero point).
struct QLinearConcat: SingleOutputOperator {
    private let concat: Concat

    init(_ context: OperatorContext) throws {
        concat = try Concat(context)
        let count = context.node.inputs.count
        guard count >= 5, (count - 2) % 3 == 0 else {
            throw InferenceError.invalidOperand(
                "QLinearConcat takes Y_scale, Y_zero_point and (tensor, scale, zero point) triples, got \(count) inputs")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let yScale = try inputs.required(0), yZero = try inputs.required(1)
        let parts = try stride(from: 2, to: inputs.count, by: 3).map { first -> Tensor in
            let x = try inputs.required(first), xScale = try inputs.required(first + 1), xZero = try inputs.required(first + 2)
            guard x.elementType == yZero.elementType, xZero.elementType == yZero.elementType else {
                throw InferenceError.invalidOperand(
                    "input \(first) and its zero point must be \(yZero.elementType.rawValue) like Y_zero_point, got \(x.elementType.rawValue) and \(xZero.elementType.rawValue)")
            }
            if xScale.floats == yScale.floats, xZero.int64s == yZero.int64s { return x }
            return try QLinearLookup.Table(parameters: [nil, xScale, xZero, yScale, yZero], type: x.elementType, function: { $0 }).lookUp(x)
        }
        return try concat.run(parts)
    }
}

extension QLinearConcat: ShapeRule {
    /// The concatenation of the tensors of the triples.
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        try concat.outputShapes(stride(from: 2, to: inputs.count, by: 3).map { inputs[$0] })
    }
}
