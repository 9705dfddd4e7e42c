/// Symmetric int8 quantization of a weight tensor, one scale per output channel or one for the
/// whole tensor: scale = max |w| / 127, q = round_half_even(w / scale) in [-127, 127], zero point 0
/// (onnxruntime's convention for symmetric int8 weights; -128 stays unused so negation is exact).
struct SymmetricInt8Quantization {
    let values: [Int8]
    /// One per channel along `channelAxis`, or a single scale when it is nil.
    let scales: [Float]
    /// `values` times their scales: what DequantizeLinear gives back.
    let dequantized: [Float]

    init(_ weights: [Float], shape: [Int], channelAxis: Int?) {
        precondition(weights.count == shape.reduce(1, *), "weights hold \(weights.count) values, not shape \(shape)")
        let channels = channelAxis.map { shape[$0] } ?? 1
        let inner = channelAxis.map { shape[($0 + 1)...].reduce(1, *) } ?? weights.count
        let channel = { (index: Int) in (index / inner) % channels }
        var largest = [Float](repeating: 0, count: channels)
        for index in weights.indices {
            largest[channel(index)] = max(largest[channel(index)], abs(weights[index]))
        }
        let scales = largest.map { $0 > 0 ? $0 / 127 : 1 }
        self.scales = scales
        let values = weights.indices.map { index in
            let scaled = (weights[index] / scales[channel(index)]).rounded(.toNearestOrEven)
            return scaled.isNaN ? 0 : Int8(min(max(scaled, -127), 127))
        }
        self.values = values
        dequantized = values.indices.map { Float(values[$0]) * scales[channel($0)] }
    }
}
