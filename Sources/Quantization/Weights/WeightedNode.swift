import Inference

/// A MatMul, Gemm or Conv whose second operand is a constant float weight: the nodes whose weights
/// the quantizer rewrites, with the axes that matter for that.
struct WeightedNode {
    let node: Onnx_NodeProto
    let weight: Tensor
    /// The axis of `weight` that indexes output channels (one scale each when per channel).
    let outputChannelAxis: Int
    /// The axis of `weight` the product sums over (int4 blocks run along it).
    let reductionAxis: Int

    static let opTypes: Set<String> = ["MatMul", "Gemm", "Conv"]

    var name: String { GraphEditing.displayName(of: node) }
    var activation: String { node.input[0] }
    var weightName: String { node.input[1] }

    /// Why a MatMul, Gemm or Conv cannot be rewritten.
    struct Unsupported: Error {
        let reason: String
    }

    /// The weighted node `node` is, `nil` when its type is never quantized, or why it cannot be.
    static func find(_ node: Onnx_NodeProto, initializers: [String: Onnx_TensorProto]) -> Result<WeightedNode, Unsupported>? {
        guard GraphEditing.isDefaultDomain(node), opTypes.contains(node.opType) else { return nil }
        guard node.input.count >= 2, node.output.count == 1 else {
            return .failure(Unsupported(reason: "expected at least two inputs and one output"))
        }
        guard initializers[node.input[0]] == nil else {
            return .failure(Unsupported(reason: "its first operand '\(node.input[0])' is a constant, not an activation"))
        }
        guard let proto = initializers[node.input[1]] else {
            return .failure(Unsupported(reason: "weight '\(node.input[1])' is not a constant initializer"))
        }
        guard let weight = try? Tensor(onnxTensor: proto), weight.elementType == .float32 || weight.elementType == .float16 else {
            return .failure(Unsupported(reason: "weight '\(node.input[1])' is not a float tensor"))
        }
        switch node.opType {
        case "Conv":
            guard weight.shape.count >= 3 else {
                return .failure(Unsupported(reason: "Conv weight '\(node.input[1])' has shape \(weight.shape), expected [M, C, k...]"))
            }
            return .success(WeightedNode(node: node, weight: weight, outputChannelAxis: 0, reductionAxis: 1))
        default:
            guard weight.shape.count == 2 else {
                return .failure(Unsupported(reason: "weight '\(node.input[1])' has shape \(weight.shape), expected a 2-D matrix"))
            }
            let transposed = node.opType == "Gemm" && GemmAttributes(node).transposesB
            return .success(WeightedNode(node: node, weight: weight, outputChannelAxis: transposed ? 0 : 1,
                                         reductionAxis: transposed ? 1 : 0))
        }
    }
}
