import Inference

/// The attributes of a Gemm (Y = alpha x A(^T) x B(^T) + beta x C) that decide how it may be rewritten.
struct GemmAttributes {
    let transposesA: Bool
    let transposesB: Bool
    let alpha: Float
    let beta: Float
    let bias: String?

    init(_ node: Onnx_NodeProto) {
        let ints = Dictionary(node.attribute.map { ($0.name, $0.i) }, uniquingKeysWith: { first, _ in first })
        let floats = Dictionary(node.attribute.map { ($0.name, $0.f) }, uniquingKeysWith: { first, _ in first })
        transposesA = (ints["transA"] ?? 0) != 0
        transposesB = (ints["transB"] ?? 0) != 0
        alpha = floats["alpha"] ?? 1
        beta = floats["beta"] ?? 1
        bias = node.input.count > 2 && !node.input[2].isEmpty ? node.input[2] : nil
    }
}
