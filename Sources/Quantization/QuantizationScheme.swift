/// The quantization recipes the quantizer offers, named as on the command line.
public enum QuantizationScheme: String, Sendable, CaseIterable {
    /// Weights int8, symmetric, per output channel; activations uint8, quantized per tensor at
    /// run time (DynamicQuantizeLinear + MatMulInteger), as onnxruntime's quantize_dynamic writes it.
    case int8Dynamic = "int8-dynamic"
    /// Weights int8, symmetric (per output channel by default); activations uint8, asymmetric, per
    /// tensor, with ranges fixed by calibration; written as QuantizeLinear/DequantizeLinear pairs (QDQ).
    case int8Static = "int8-static"
    /// Weights only, int4 symmetric in blocks along the reduction axis; activations stay float.
    /// Written as opset-21 blocked DequantizeLinear.
    case int4Weight = "int4-weight"
}

/// How calibration turns observed activation values into a quantization range.
public enum CalibrationMethod: String, Sendable, CaseIterable {
    /// The smallest and largest value seen: no clipping, coarsest steps.
    case minmax
    /// The 0.001st and 99.999th percentiles: clips rare outliers.
    case percentile
    /// The range whose quantized histogram has the least KL divergence from the observed one.
    case entropy
    /// The range with the least expected squared error (clipping plus rounding).
    case mse
}

/// How int8-static quantizes activations.
public enum ActivationType: String, Sendable, CaseIterable {
    /// uint8 with a zero point: the calibrated range, stretched to contain 0, spans all 256 levels.
    case uint8
    /// int8 with zero point 0: scale = max |range| / 127. Symmetric, as accelerators and integer
    /// pipelines without zero-point arithmetic require; one level of resolution is given up.
    case int8
}

/// int8-static: which ops between quantized nodes carry quantized tensors too.
public enum OpsBetweenQuantizedNodes: String, Sendable, CaseIterable {
    /// None: each quantized node's input alone is quantized; the graph returns to float after it.
    case none
    /// Those that add no rounding of their own: max pooling, padding with zeros or edges, nearest
    /// resizing and shape ops keep their input's levels; a ReLU or Clip after a quantized node
    /// becomes the clamp of the QuantizeLinear that follows.
    case exact
    /// Also those onnxruntime's quantizer requantizes (adds, multiplies, concatenations, average and
    /// global pooling, linear resizing, sigmoids): onnxruntime then runs the whole graph in integer
    /// kernels, at the cost of a rounding at each.
    case all
}
