/// What a quantization run changed.
public struct QuantizationReport: Sendable, Equatable {
    /// A node the scheme would quantize but left in float, and why.
    public struct SkippedNode: Sendable, Equatable {
        public let name: String
        public let opType: String
        public let reason: String
    }

    public let scheme: QuantizationScheme
    /// Names of the MatMul/Gemm/Conv nodes whose weights (and, for int8 schemes, inputs) were quantized.
    public let quantizedNodes: [String]
    public let skippedNodes: [SkippedNode]
    /// Names of the ops between quantized nodes that read and write quantized tensors too (pooling,
    /// padding, concatenations, adds, shape ops; a ReLU or Clip whose clamp the next QuantizeLinear
    /// does is removed and listed here). int8-static only.
    public let quantizedBetween: [Node]

    public struct Node: Sendable, Equatable {
        public let name: String
        public let opType: String
    }
    /// True when the input held FP16 values, which were widened to FP32 before quantizing.
    public let widenedFromFloat16: Bool
    /// Rows the activation ranges were measured on (int8-static).
    public let calibrationRows: Int?
    /// One per quantized node, in graph order.
    public let layers: [LayerReport]
    /// Exact file sizes.
    public let bytesBefore: Int
    public let bytesAfter: Int
}
