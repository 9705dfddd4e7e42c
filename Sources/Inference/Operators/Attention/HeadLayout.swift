/// How an attention operand (Attention's Q, K, V; RotaryEmbedding's input) holds its heads: 4-D
/// [batch, heads, length, size], or 3-D [batch, length, heads x size] where each row holds every
/// head's columns side by side, and the head count comes from an attribute.
struct HeadLayout {
    let batches: Int, heads: Int, length: Int, size: Int
    let isInterleaved: Bool
    /// Elements between consecutive sequence positions of one head.
    let rowStride: Int

    init(_ tensor: Tensor, heads: Int?, role: String) throws {
        let shape = tensor.shape
        switch shape.count {
        case 4:
            (batches, self.heads, length, size) = (shape[0], shape[1], shape[2], shape[3])
            isInterleaved = false
            rowStride = size
        case 3:
            guard let heads, shape[2] % heads == 0 else {
                throw InferenceError.invalidOperand("3-D \(role) \(shape) needs a head count attribute that divides its last axis")
            }
            (batches, self.heads, length, size) = (shape[0], heads, shape[1], shape[2] / heads)
            isInterleaved = true
            rowStride = shape[2]
        default:
            throw InferenceError.invalidOperand("\(role) must be 3-D or 4-D, got \(shape)")
        }
    }

    /// Where the head's first row starts.
    func offset(_ batch: Int, _ head: Int) -> Int {
        isInterleaved ? batch * length * rowStride + head * size : (batch * heads + head) * length * size
    }
}
