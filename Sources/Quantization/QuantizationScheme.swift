/// The quantization recipes the quantizer offers, named as on the command line.
public enum QuantizationScheme: String, Sendable, CaseIterable {
    /// Weights int8, symmetric, per output channel; activations uint8, quantized per tensor at
    /// run time (DynamicQuantizeLinear + MatMulInteger), as onnxruntime's quantize_dynamic writes it.
    case int8Dynamic = "int8-dynamic"
}
