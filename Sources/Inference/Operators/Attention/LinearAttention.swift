import Foundation

/// LinearAttention (opset 27): attention as a recurrence over one [d_k, d_v] state per key/value
/// head instead of a softmax over every key, so each token costs the same at any sequence length.
/// Token by token, the state decays (gated rules: S x exp(g_t), g_t per head or per key dimension),
/// takes k_t ⊗ v_t (delta rules first replace v_t by beta_t (v_t - S^T k_t): what the state does not
/// yet recall for k_t), and each query head reads scale x q_t S. Q, K, V, decay and beta are 3-D
/// [batch, sequence, heads x size]; consecutive query heads share a key/value head. past_state and
/// present_state are [batch, key/value heads, d_k, d_v].
struct LinearAttention: Operator {
    private enum UpdateRule: String, CaseIterable {
        case linear, gated, delta, gatedDelta = "gated_delta"

        var isGated: Bool { self == .gated || self == .gatedDelta }
        var correctsDelta: Bool { self == .delta || self == .gatedDelta }
    }

    private let rule: UpdateRule
    private let queryHeads: Int, keyValueHeads: Int
    /// nil: 1 / sqrt(d_k). chunk_size is not read: it tunes chunk-parallel kernels, and the
    /// recurrence here runs token by token.
    private let scale: Float?
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) throws {
        let node = context.node.name, attributes = context.attributes
        rule = try attributes.choice("update_rule", default: UpdateRule.gatedDelta)
        queryHeads = try attributes.requiredInt("q_num_heads")
        keyValueHeads = try attributes.requiredInt("kv_num_heads")
        guard keyValueHeads > 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "kv_num_heads", reason: "must be positive, got \(keyValueHeads)")
        }
        guard queryHeads > 0, queryHeads % keyValueHeads == 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "q_num_heads",
                                                  reason: "must be a positive multiple of kv_num_heads \(keyValueHeads), got \(queryHeads)")
        }
        // The schema's default 0 asks for the default scale.
        let scale = try attributes.float("scale", default: 0)
        self.scale = scale == 0 ? nil : scale
        multiplier = context.multiplier
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let q = try inputs.required(0), k = try inputs.required(1), v = try inputs.required(2)
        let past = inputs.optional(3), decay = inputs.optional(4), beta = inputs.optional(5)
        guard (decay != nil) == rule.isGated, (beta != nil) == rule.correctsDelta else {
            throw InferenceError.invalidOperand("update_rule '\(rule.rawValue)' takes \(rule.isGated ? "a" : "no") decay"
                + " and \(rule.correctsDelta ? "a" : "no") beta input")
        }
        for (tensor, role) in [(q, "query"), (k, "key"), (v, "value"), (decay, "decay"), (beta, "beta")] {
            if let tensor, tensor.shape.count != 3 {
                throw InferenceError.invalidOperand("\(role) must be 3-D [batch, sequence, heads x size], got \(tensor.shape)")
            }
        }
        let query = try HeadLayout(q, heads: queryHeads, role: "query")
        let key = try HeadLayout(k, heads: keyValueHeads, role: "key"), value = try HeadLayout(v, heads: keyValueHeads, role: "value")
        let (batches, length, depth, width) = (query.batches, query.length, query.size, value.size)
        guard key.batches == batches, value.batches == batches, key.length == length, value.length == length, key.size == depth else {
            throw InferenceError.invalidOperand("query \(q.shape), key \(k.shape) and value \(v.shape) must share batch and sequence,"
                + " and query and key one head size")
        }
        let gates = try decay.map { try HeadLayout($0, heads: keyValueHeads, role: "decay") }
        if let decay, let gates, gates.batches != batches || gates.length != length || ![1, depth].contains(gates.size) {
            throw InferenceError.invalidOperand("decay \(decay.shape) must be [\(batches), \(length), kv_num_heads (x d_k \(depth))]")
        }
        // beta holds one rate per key/value head, or one for all of them.
        let rates = try beta.map { try HeadLayout($0, heads: $0.shape[2] == 1 ? 1 : keyValueHeads, role: "beta") }
        if let beta, let rates, rates.batches != batches || rates.length != length || rates.size != 1 {
            throw InferenceError.invalidOperand("beta \(beta.shape) must be [\(batches), \(length), kv_num_heads or 1]")
        }
        let stateShape = [batches, keyValueHeads, depth, width]
        if let past, past.shape != stateShape {
            throw InferenceError.invalidOperand("past_state \(past.shape) must be \(stateShape)")
        }

        var state = try past?.floatOperand("past_state") ?? [Float](repeating: 0, count: stateShape.reduce(1, *))
        let queries = try q.floatOperand("query"), keys = try k.floatOperand("key"), values = try v.floatOperand("value")
        let decays = try decay?.floatOperand("decay"), betas = try beta?.floatOperand("beta")
        let groupSize = queryHeads / keyValueHeads, multiplier = multiplier
        // What a token writes into the state: v_t, or its delta-corrected form.
        var written = [Float](repeating: 0, count: width), recalled = [Float](repeating: 0, count: width)
        var output = [Float](repeating: 0, count: batches * length * queryHeads * width)
        queries.withUnsafeBufferPointer { queries in
        keys.withUnsafeBufferPointer { keys in
        state.withUnsafeMutableBufferPointer { state in
        recalled.withUnsafeMutableBufferPointer { recalled in
        output.withUnsafeMutableBufferPointer { output in
            // Without tokens, key or value columns there is nothing to write or read (and no buffer to point at).
            for batch in 0..<batches where length * depth * width > 0 {
                for head in 0..<keyValueHeads {
                    let headState = state.baseAddress! + (batch * keyValueHeads + head) * depth * width
                    for token in 0..<length {
                        let keyRow = keys.baseAddress! + key.offset(batch, head) + token * key.rowStride
                        if let decays, let gates {
                            let gate = gates.offset(batch, head) + token * gates.rowStride
                            for row in 0..<depth {
                                let factor = exp(decays[gate + (gates.size == 1 ? 0 : row)])
                                for column in 0..<width { headState[row * width + column] *= factor }
                            }
                        }
                        let valueStart = value.offset(batch, head) + token * value.rowStride
                        for column in 0..<width { written[column] = values[valueStart + column] }
                        if let betas, let rates {
                            multiplier.multiply(keyRow, headState, into: recalled.baseAddress!, rows: 1, depth: depth, columns: width)
                            let rate = betas[rates.offset(batch, rates.heads == 1 ? 0 : head) + token * rates.rowStride]
                            for column in 0..<width { written[column] = rate * (written[column] - recalled[column]) }
                        }
                        for row in 0..<depth {
                            for column in 0..<width { headState[row * width + column] += keyRow[row] * written[column] }
                        }
                        // The group's query heads sit side by side in the token's row, and so do their outputs.
                        let firstQueryHead = head * groupSize
                        multiplier.multiply(queries.baseAddress! + query.offset(batch, firstQueryHead) + token * query.rowStride,
                                            headState, into: output.baseAddress! + ((batch * length + token) * queryHeads + firstQueryHead) * width,
                                            rows: groupSize, depth: depth, columns: width)
                    }
                }
            }
        }}}}}
        let factor = scale ?? 1 / Float(depth).squareRoot()
        for index in output.indices { output[index] *= factor }
        outputs.append(Tensor(shape: [batches, length, queryHeads * width], floats: output, as: q.elementType))
        // Without a past state, the state takes the query's type.
        outputs.append(Tensor(shape: stateShape, floats: state, as: past?.elementType ?? q.elementType))
    }
}
