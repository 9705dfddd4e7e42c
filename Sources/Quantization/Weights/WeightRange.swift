/// How many int8 levels a weight may use.
public enum WeightRange: String, CaseIterable, Sendable {
    /// [-127, 127], with the scale chosen so that any two weights a kernel multiplies as one pair
    /// (reduction positions 2j and 2j + 1) sum to at most 128 in magnitude. The AVX2 `vpmaddubsw`
    /// kernels of CPUs without VNNI (onnxruntime's) add such a pair's u8 x s8 products in int16,
    /// which 255 x 128 still fits; larger pairs saturate. Measured on the Fashion-MNIST MLP, full
    /// range saturated 21 % of the first layer's outputs in onnxruntime; this range saturates none.
    case pairSafe = "pair-safe"
    /// [-127, 127]: the most precise, exact on VNNI, NEON and our engine.
    case full
    /// [-63, 63]: 7 bits, never saturating, at a bit of precision.
    case reduced
}
