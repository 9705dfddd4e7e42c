import CQuantKernels
import Foundation

/// Attention (opsets 23, 24): Y = softmax(softcap(Q K^T x scale) + bias) V, head by head. Q, K and V
/// are 4-D [batch, heads, sequence, head size] or 3-D [batch, sequence, heads x head size] (with
/// q_num_heads and kv_num_heads). Keys and values are appended to past_key/past_value (present_key,
/// present_value); fewer key/value heads than query heads are shared by consecutive query heads
/// (grouped-query attention). The bias adds attn_mask (float, or bool where false masks out; a mask
/// shorter than the keys masks the rest out), the causal triangle, and the padding past each batch's
/// nonpad_kv_seqlen. Softmax always runs in FP32, so softmax_precision asks for nothing more.
struct Attention: Operator {
    /// Where qk_matmul_output is taken from the chain of scores.
    private enum ScoresStage: Int {
        case product = 0, softcapped, biased, weights
    }

    private let isCausal: Bool
    /// Head counts for 3-D operands, which do not carry them.
    private let queryHeads: Int?, keyValueHeads: Int?
    private let scale: Float?
    /// 0 when scores are not capped.
    private let softcap: Float
    /// nil when the node does not ask for qk_matmul_output.
    private let scoresStage: ScoresStage?
    /// How many of present_key and present_value the node's outputs hold places for.
    private let presentOutputs: Int
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) throws {
        let node = context.node.name, attributes = context.attributes
        isCausal = try attributes.int("is_causal", default: 0) != 0
        queryHeads = try attributes.int("q_num_heads")
        keyValueHeads = try attributes.int("kv_num_heads")
        for (name, heads) in [("q_num_heads", queryHeads), ("kv_num_heads", keyValueHeads)] {
            if let heads, heads <= 0 {
                throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be positive, got \(heads)")
            }
        }
        scale = try attributes.float("scale")
        softcap = try attributes.float("softcap", default: 0)
        guard softcap >= 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "softcap", reason: "must not be negative, got \(softcap)")
        }
        let mode = try attributes.int("qk_matmul_output_mode", default: 0)
        guard let stage = ScoresStage(rawValue: mode) else {
            throw InferenceError.invalidAttribute(node: node, attribute: "qk_matmul_output_mode", reason: "must be 0 to 3, got \(mode)")
        }
        let outputs = context.node.outputs
        if outputs.count > 3, !outputs[3].isEmpty {
            // Without a softcap, the softcapped scores are the product.
            scoresStage = stage == .softcapped && softcap == 0 ? .product : stage
            presentOutputs = 2
        } else {
            scoresStage = nil
            presentOutputs = max(0, min(2, outputs.count - 1))
        }
        multiplier = context.multiplier
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let q = try inputs.required(0), k = try inputs.required(1), v = try inputs.required(2)
        guard q.shape.count == k.shape.count, k.shape.count == v.shape.count else {
            throw InferenceError.invalidOperand("Q \(q.shape), K \(k.shape) and V \(v.shape) must share one rank")
        }
        let query = try HeadLayout(q, heads: queryHeads, role: "Q")
        let key = try HeadLayout(k, heads: keyValueHeads, role: "K"), value = try HeadLayout(v, heads: keyValueHeads, role: "V")
        guard key.batches == query.batches, value.batches == query.batches, key.heads == value.heads,
              key.length == value.length, key.size == query.size, query.heads % key.heads == 0 else {
            throw InferenceError.invalidOperand("Q \(q.shape), K \(k.shape) and V \(v.shape) do not make heads that attend"
                + " (query heads must be a multiple of key/value heads)")
        }
        let presentKey = try Self.present(key, of: k, after: inputs.optional(4), role: "past_key")
        let presentValue = try Self.present(value, of: v, after: inputs.optional(5), role: "past_value")
        guard presentValue.shape[2] == presentKey.shape[2] else {
            throw InferenceError.invalidOperand("past_key and past_value hold different sequence lengths")
        }
        let scoresShape = [query.batches, query.heads, query.length, presentKey.shape[2]]
        let bias = try AttentionBias(mask: inputs.optional(3), nonpadLengths: inputs.optional(6), isCausal: isCausal,
                                     pastLength: presentKey.shape[2] - key.length, scores: scoresShape)

        let (output, scores) = try attend(query, q: try q.floatOperand("Q"), keys: presentKey, values: presentValue, bias: bias)
        let outputShape = query.isInterleaved
            ? [query.batches, query.length, query.heads * value.size] : [query.batches, query.heads, query.length, value.size]
        outputs.append(Tensor(shape: outputShape, floats: output, as: q.elementType))
        outputs.append(contentsOf: [presentKey, presentValue].prefix(presentOutputs))
        if let scores { outputs.append(Tensor(shape: scoresShape, floats: scores, as: q.elementType)) }
    }

    /// The output (laid out as Q is) and, when the node asks for them, the scores at `scoresStage`.
    private func attend(_ query: HeadLayout, q: [Float], keys: Tensor, values: Tensor, bias: AttentionBias) throws
        -> (output: [Float], scores: [Float]?) {
        let (batches, heads, rows, depth) = (query.batches, query.heads, query.length, query.size)
        let (keyHeads, columns, width) = (keys.shape[1], keys.shape[2], values.shape[3])
        let headsPerKey = heads / keyHeads, softcap = softcap, multiplier = multiplier
        let factor = scale ?? 1 / Float(depth).squareRoot()
        let keyValues = try keys.floatOperand("K"), valueValues = try values.floatOperand("V")
        // Y is written in Q's layout: 3-D puts every head's columns side by side in one row.
        let outputRowStride = query.isInterleaved ? heads * width : width
        let outputCount = batches * heads * rows * width
        var captured = scoresStage.map { _ in [Float](recycledUnwritten: batches * heads * rows * columns) }
        var transposedKeys = [Float](recycledUnwritten: depth * columns), scores = [Float](recycledUnwritten: rows * columns)
        let output = [Float](recycledCapacity: outputCount) { out, initialized in
            q.withUnsafeBufferPointer { q in
            keyValues.withUnsafeBufferPointer { k in
            valueValues.withUnsafeBufferPointer { v in
            transposedKeys.withUnsafeMutableBufferPointer { kT in
            scores.withUnsafeMutableBufferPointer { s in
                for batch in 0..<batches where rows * width > 0 {
                    for keyHead in 0..<keyHeads {
                        let keyHeadIndex = batch * keyHeads + keyHead
                        Self.transpose(k.baseAddress! + keyHeadIndex * columns * depth, rows: columns, columns: depth,
                                       scaledBy: factor, into: kT.baseAddress!)
                        for head in (keyHead * headsPerKey)..<((keyHead + 1) * headsPerKey) {
                            func capture(_ stage: ScoresStage) {
                                guard stage == scoresStage else { return }
                                let start = (batch * heads + head) * rows * columns
                                captured?.withUnsafeMutableBufferPointer {
                                    ($0.baseAddress! + start).update(from: s.baseAddress!, count: s.count)
                                }
                            }
                            multiplier.multiply(q.baseAddress! + query.offset(batch, head), lda: query.rowStride, kT.baseAddress!,
                                                into: s.baseAddress!, rows: rows, depth: depth, columns: columns)
                            capture(.product)
                            if softcap > 0 {
                                for index in s.indices { s[index] = softcap * tanh(s[index] / softcap) }
                                capture(.softcapped)
                            }
                            bias.add(to: s.baseAddress!, batch: batch, head: head)
                            capture(.biased)
                            // A row whose every key is masked out attends to nothing: its weights are
                            // 0, as onnxruntime has them, rather than softmax's NaN.
                            let unattended = (0..<rows).filter { row in
                                s[(row * columns)..<((row + 1) * columns)].allSatisfy { $0 == -.infinity }
                            }
                            qf_softmax_rows_f32(s.baseAddress, rows, columns)
                            for row in unattended { (s.baseAddress! + row * columns).update(repeating: 0, count: columns) }
                            capture(.weights)
                            let outputStart = query.isInterleaved
                                ? batch * rows * outputRowStride + head * width : (batch * heads + head) * rows * width
                            multiplier.multiply(s.baseAddress!, v.baseAddress! + keyHeadIndex * columns * width,
                                                into: out.baseAddress! + outputStart, ldc: outputRowStride,
                                                rows: rows, depth: columns, columns: width)
                        }
                    }
                }
            }}}}}
            initialized = outputCount
        }
        transposedKeys.recycle()
        scores.recycle()
        return (output, captured)
    }

    /// One key head, `rows` keys of `columns` values, transposed and multiplied by `factor`: the
    /// right-hand operand of Q K^T, scaled once per key rather than once per score (FlexAttention's too).
    static func transpose(_ keys: UnsafePointer<Float>, rows: Int, columns: Int, scaledBy factor: Float,
                                  into transposed: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            for column in 0..<columns { transposed[column * rows + row] = keys[row * columns + column] * factor }
        }
    }

    /// past (4-D, may be absent) followed by the incoming heads along the sequence: the 4-D
    /// present_key or present_value that attention reads.
    private static func present(_ layout: HeadLayout, of current: Tensor, after past: Tensor?, role: String) throws -> Tensor {
        let (batches, heads, length, size) = (layout.batches, layout.heads, layout.length, layout.size)
        var incoming = current
        if layout.isInterleaved {
            let rowStarts = (0..<(batches * heads)).flatMap { block in
                (0..<length).map { layout.offset(block / heads, block % heads) + $0 * layout.rowStride }
            }
            incoming = Tensor(shape: [batches, heads, length, size], storage: current.storage.runs(from: rowStarts, width: size))
        }
        guard let past else { return incoming }
        guard past.shape.count == 4, past.shape[0] == batches, past.shape[1] == heads, past.shape[3] == size else {
            throw InferenceError.invalidOperand("\(role) \(past.shape) must be [\(batches), \(heads), past length, \(size)]")
        }
        let pastLength = past.shape[2]
        let storage = try TensorStorage.interleaved([past.storage, incoming.storage], blocks: batches * heads,
                                                    blockSizes: [pastLength * size, length * size])
        return Tensor(shape: [batches, heads, pastLength + length, size], storage: storage)
    }
}

/// The additive bias on each head's scores: attn_mask broadcast to [batch, heads, rows, keys]
/// (keys beyond a shorter mask are masked out), the causal triangle, and the padding keys past
/// nonpad_kv_seqlen, all as -inf where masked out.
private struct AttentionBias {
    private let mask: [Float]?
    /// Element strides reading the mask as [batch, heads, rows, mask keys]; 0 along broadcast axes.
    private let maskStrides: [Int]
    /// Keys the mask covers (all when there is none); the rest are masked out.
    private let maskKeys: Int
    private let causalOffset: Int?
    private let nonpadLengths: [Int64]?
    private let rows: Int, keys: Int

    init(mask: Tensor?, nonpadLengths: Tensor?, isCausal: Bool, pastLength: Int, scores: [Int]) throws {
        (rows, keys) = (scores[2], scores[3])
        causalOffset = isCausal ? pastLength : nil
        if let nonpadLengths {
            guard nonpadLengths.shape == [scores[0]] else {
                throw InferenceError.invalidOperand("nonpad_kv_seqlen \(nonpadLengths.shape) must hold one length per batch (\(scores[0]))")
            }
            self.nonpadLengths = nonpadLengths.int64s
        } else {
            self.nonpadLengths = nil
        }
        guard let mask else {
            (self.mask, maskStrides, maskKeys) = (nil, [], keys)
            return
        }
        guard (2...4).contains(mask.shape.count), let last = mask.shape.last, last <= keys else {
            throw InferenceError.invalidOperand("attn_mask \(mask.shape) must be 2-D to 4-D with at most \(keys) keys")
        }
        let padded = Array(repeating: 1, count: 4 - mask.shape.count) + mask.shape
        let target = [scores[0], scores[1], scores[2], last]
        var strides = [0, 0, 0, 0], step = 1
        for axis in (0..<4).reversed() {
            guard padded[axis] == target[axis] || padded[axis] == 1 else {
                throw InferenceError.invalidOperand("attn_mask \(mask.shape) does not broadcast to the scores \(scores)")
            }
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        maskStrides = strides
        maskKeys = last
        switch mask.storage {
        case .bool(let allowed): self.mask = allowed.map { $0 ? 0 : -.infinity }
        default: self.mask = try mask.floatOperand("attn_mask")
        }
    }

    /// Adds the bias to one head's rows x keys scores.
    func add(to scores: UnsafeMutablePointer<Float>, batch: Int, head: Int) {
        let validKeys = nonpadLengths.map { min(keys, max(0, Int($0[batch]))) } ?? keys
        for row in 0..<rows {
            let scoresRow = scores + row * keys
            if let mask {
                let maskStart = batch * maskStrides[0] + head * maskStrides[1] + row * maskStrides[2]
                for key in 0..<maskKeys { scoresRow[key] += mask[maskStart + key * maskStrides[3]] }
            }
            let causalEnd = causalOffset.map { min(keys, $0 + row + 1) } ?? keys
            for key in min(maskKeys, causalEnd, validKeys)..<keys { scoresRow[key] = -.infinity }
        }
    }
}
