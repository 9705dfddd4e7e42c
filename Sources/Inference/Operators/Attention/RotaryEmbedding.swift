/// RotaryEmbedding (opset 23): rotates pairs of each head's first rotary_embedding_dim values
/// (the two halves, or neighbours when interleaved) by the angle whose cosine and sine the caches
/// hold for the token's position. Input is 4-D [batch, heads, sequence, head size] or 3-D [batch,
/// sequence, heads x head size] (with num_heads). With position_ids [batch, sequence] the caches are
/// [max position, rotary dim / 2] tables; without, they are [batch, sequence, rotary dim / 2].
struct RotaryEmbedding: SingleOutputOperator {
    private let interleaved: Bool
    /// 0: the whole head.
    private let rotaryDimension: Int
    /// Heads of a 3-D input, which does not carry them.
    private let heads: Int?

    init(_ context: OperatorContext) throws {
        let node = context.node.name
        interleaved = try context.attributes.int("interleaved", default: 0) != 0
        rotaryDimension = try context.attributes.int("rotary_embedding_dim", default: 0)
        guard rotaryDimension >= 0, rotaryDimension % 2 == 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "rotary_embedding_dim",
                                                  reason: "must be even and not negative, got \(rotaryDimension)")
        }
        heads = try context.attributes.int("num_heads")
        if let heads, heads <= 0 {
            throw InferenceError.invalidAttribute(node: node, attribute: "num_heads", reason: "must be positive, got \(heads)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), cosines = try inputs.required(1), sines = try inputs.required(2)
        let positions = inputs.optional(3), layout = try HeadLayout(x, heads: heads, role: "input")
        let (batches, length, size) = (layout.batches, layout.length, layout.size)
        let rotated = rotaryDimension == 0 ? size : rotaryDimension, half = rotated / 2
        guard rotated <= size else {
            throw InferenceError.invalidOperand("rotary_embedding_dim \(rotated) exceeds the head size \(size)")
        }
        let expectedCache = positions == nil ? [batches, length, half] : [cosines.shape.first ?? 0, half]
        guard cosines.shape == expectedCache, sines.shape == expectedCache else {
            throw InferenceError.invalidOperand("cos_cache \(cosines.shape) and sin_cache \(sines.shape) must be \(expectedCache)")
        }
        if let positions, positions.shape != [batches, length] {
            throw InferenceError.invalidOperand("position_ids \(positions.shape) must be [\(batches), \(length)]")
        }
        let input = try x.floatOperand("input"), cosineValues = try cosines.floatOperand("cos_cache")
        let sineValues = try sines.floatOperand("sin_cache"), positionValues = positions?.int64s
        let tableRows = cosines.shape[0]
        var output = input
        for batch in 0..<batches {
            for token in 0..<length {
                let row: Int
                if let positionValues {
                    row = Int(positionValues[batch * length + token])
                    guard (0..<tableRows).contains(row) else {
                        throw InferenceError.invalidOperand("position id \(row) is outside the \(tableRows) cached positions")
                    }
                } else {
                    row = batch * length + token
                }
                for head in 0..<layout.heads {
                    let start = layout.offset(batch, head) + token * layout.rowStride
                    for pair in 0..<half {
                        let (first, second) = interleaved ? (start + 2 * pair, start + 2 * pair + 1) : (start + pair, start + half + pair)
                        let cosine = cosineValues[row * half + pair], sine = sineValues[row * half + pair]
                        output[first] = cosine * input[first] - sine * input[second]
                        output[second] = sine * input[first] + cosine * input[second]
                    }
                }
            }
        }
        return Tensor(shape: x.shape, floats: output, as: x.elementType)
    }
}
