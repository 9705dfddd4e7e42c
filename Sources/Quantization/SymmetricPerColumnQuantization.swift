/// Symmetric int8 quantization of a weight matrix [K, N], one scale per column (output channel):
/// scale = max |w| / 127, q = round_half_even(w / scale) in [-127, 127], zero point 0
/// (the convention of onnxruntime's quantizer for symmetric int8 weights).
struct SymmetricPerColumnQuantization {
    let values: [Int8]
    let scales: [Float]

    init(rowMajor weights: [Float], rows: Int, columns: Int) {
        precondition(weights.count == rows * columns, "weights hold \(weights.count) values, not \(rows) x \(columns)")
        let scales = (0..<columns).map { column in
            let largest = (0..<rows).reduce(Float(0)) { max($0, abs(weights[$1 * columns + column])) }
            return largest > 0 ? largest / 127 : 1
        }
        self.scales = scales
        values = weights.indices.map { index in
            let scaled = (weights[index] / scales[index % columns]).rounded(.toNearestOrEven)
            return scaled.isNaN ? 0 : Int8(min(max(scaled, -127), 127))
        }
    }
}
