import CQuantKernels

/// FlexAttention (ai.onnx.preview 1): Y = prob_mod(softmax(score_mod(Q K^T x scale))) V over 4-D
/// [batch, heads, sequence, head size] operands, where score_mod and prob_mod are optional graphs of
/// one tensor (masks, biases, softcaps written as ONNX). Consecutive query heads share a key/value
/// head. Unlike Attention, which runs its chain one head at a time, the modifiers take every head's
/// [batch, query heads, queries, keys] scores at once (they may broadcast per-head constants), so all
/// scores are held between the two products.
struct FlexAttention: SingleOutputOperator {
    private let scale: Float?
    private let scoreModifier: SubgraphRunner?, probabilityModifier: SubgraphRunner?
    private let implicitCount: Int
    /// The type the modifiers see (softmax_precision); nil: float64 for float64 operands, else float32.
    /// The arithmetic itself always runs in FP32.
    private let softmaxType: ElementType?
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) throws {
        let node = context.node.name, attributes = context.attributes
        scale = try attributes.float("scale")
        scoreModifier = attributes.values["score_mod"] == nil ? nil : try context.subgraph("score_mod")
        probabilityModifier = attributes.values["prob_mod"] == nil ? nil : try context.subgraph("prob_mod")
        implicitCount = context.node.implicitInputCount
        softmaxType = try attributes.int("softmax_precision").map {
            try ElementType(onnxAttribute: $0, node: node, attribute: "softmax_precision")
        }
        if let softmaxType, !softmaxType.isFloatingPoint {
            throw InferenceError.invalidAttribute(node: node, attribute: "softmax_precision",
                                                  reason: "must name a floating-point type, got \(softmaxType.rawValue)")
        }
        multiplier = context.multiplier
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let (explicit, outerTensors) = inputs.splittingImplicit(implicitCount)
        let outer = outerTensors.map { $0.map(Value.tensor) }
        let q = try explicit.required(0), k = try explicit.required(1), v = try explicit.required(2)
        guard q.shape.count == 4, k.shape.count == 4, v.shape.count == 4 else {
            throw InferenceError.invalidOperand("Q \(q.shape), K \(k.shape) and V \(v.shape) must be 4-D [batch, heads, sequence, head size]")
        }
        let query = try HeadLayout(q, heads: nil, role: "Q")
        let (batches, heads, rows, depth) = (query.batches, query.heads, query.length, query.size)
        let (keyHeads, columns, width) = (k.shape[1], k.shape[2], v.shape[3])
        guard k.shape[0] == batches, v.shape[0] == batches, v.shape[1] == keyHeads, v.shape[2] == columns, k.shape[3] == depth,
              keyHeads > 0, heads % keyHeads == 0 else {
            throw InferenceError.invalidOperand("Q \(q.shape), K \(k.shape) and V \(v.shape) do not make heads that attend"
                + " (query heads must be a multiple of key/value heads)")
        }
        let scoresShape = [batches, heads, rows, columns], headsPerKey = heads / keyHeads, multiplier = multiplier
        let modifierType = softmaxType ?? (q.elementType == .float64 ? .float64 : .float32)
        let factor = scale ?? 1 / Float(depth).squareRoot()
        let queries = try q.floatOperand("Q"), keys = try k.floatOperand("K"), values = try v.floatOperand("V")

        var scores = [Float](repeating: 0, count: scoresShape.reduce(1, *))
        var transposedKeys = [Float](repeating: 0, count: depth * columns)
        queries.withUnsafeBufferPointer { q in
        keys.withUnsafeBufferPointer { k in
        transposedKeys.withUnsafeMutableBufferPointer { kT in
        scores.withUnsafeMutableBufferPointer { s in
            // An empty product leaves its zeros (and an empty operand has no buffer to point at).
            for batch in 0..<batches where rows * columns * depth > 0 {
                for keyHead in 0..<keyHeads {
                    Attention.transpose(k.baseAddress! + (batch * keyHeads + keyHead) * columns * depth, rows: columns, columns: depth,
                                        scaledBy: factor, into: kT.baseAddress!)
                    for head in (keyHead * headsPerKey)..<((keyHead + 1) * headsPerKey) {
                        multiplier.multiply(q.baseAddress! + query.offset(batch, head), kT.baseAddress!,
                                            into: s.baseAddress! + (batch * heads + head) * rows * columns, rows: rows, depth: depth, columns: columns)
                    }
                }
            }
        }}}}
        scores = try Self.modified(scores, by: scoreModifier, shape: scoresShape, type: modifierType, outer: outer, role: "score_mod")
        qf_softmax_rows_f32(&scores, batches * heads * rows, columns)
        scores = try Self.modified(scores, by: probabilityModifier, shape: scoresShape, type: modifierType, outer: outer, role: "prob_mod")

        var output = [Float](repeating: 0, count: batches * heads * rows * width)
        scores.withUnsafeBufferPointer { s in
        values.withUnsafeBufferPointer { v in
        output.withUnsafeMutableBufferPointer { out in
            for batch in 0..<batches where rows * columns * width > 0 {
                for head in 0..<heads {
                    let headIndex = batch * heads + head
                    multiplier.multiply(s.baseAddress! + headIndex * rows * columns, v.baseAddress! + (batch * keyHeads + head / headsPerKey) * columns * width,
                                        into: out.baseAddress! + headIndex * rows * width, rows: rows, depth: columns, columns: width)
                }
            }
        }}}
        return Tensor(shape: [batches, heads, rows, width], floats: output, as: q.elementType)
    }

    /// `scores` passed through a modifier graph (unchanged without one), which must keep their shape.
    private static func modified(_ scores: [Float], by modifier: SubgraphRunner?, shape: [Int], type: ElementType,
                                 outer: [Value?], role: String) throws -> [Float] {
        guard let modifier else { return scores }
        let results = try modifier.run(tensors: [Tensor(shape: shape, floats: scores, as: type)], outer: outer)
        guard results.count == 1, results[0].shape == shape else {
            throw InferenceError.invalidOperand("\(role) must give one output of shape \(shape), got \(results.map(\.shape))")
        }
        return try results[0].floatOperand(role)
    }
}
