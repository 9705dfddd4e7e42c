/// What a quantization run changed.
public struct QuantizationReport: Sendable, Equatable {
    /// A node the scheme would quantize but left in float, and why.
    public struct SkippedNode: Sendable, Equatable {
        public let name: String
        public let opType: String
        public let reason: String
    }

    public let scheme: QuantizationScheme
    /// Names of the MatMul/Gemm nodes replaced by integer subgraphs.
    public let quantizedNodes: [String]
    public let skippedNodes: [SkippedNode]
    /// True when the input held FP16 values, which were widened to FP32 before quantizing.
    public let widenedFromFloat16: Bool
    public let bytesBefore: Int
    public let bytesAfter: Int
}
