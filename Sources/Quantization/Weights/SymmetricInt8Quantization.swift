/// Symmetric int8 quantization of a weight tensor, one scale per output channel or one for the
/// whole tensor: scale = max |w| / limit, q = round_half_even(w / scale) in [-limit, limit], zero
/// point 0 (onnxruntime's convention for symmetric int8 weights; -128 stays unused so negation is
/// exact). The limit is 127, or 63 with reduced range: 7-bit weights, whose u8 x s8 pair sums cannot
/// saturate the int16 `vpmaddubsw` kernels of CPUs without VNNI (onnxruntime's on this machine).
struct SymmetricInt8Quantization {
    static let fullLimit: Float = 127
    static let reducedLimit: Float = 63

    let values: [Int8]
    /// One per channel along `channelAxis`, or a single scale when it is nil.
    let scales: [Float]
    /// `values` times their scales: what DequantizeLinear gives back.
    let dequantized: [Float]

    init(_ weights: [Float], shape: [Int], channelAxis: Int?, reducedRange: Bool = false) {
        let limit = reducedRange ? Self.reducedLimit : Self.fullLimit
        precondition(weights.count == shape.reduce(1, *), "weights hold \(weights.count) values, not shape \(shape)")
        let channels = channelAxis.map { shape[$0] } ?? 1
        let inner = channelAxis.map { shape[($0 + 1)...].reduce(1, *) } ?? weights.count
        let channel = { (index: Int) in (index / inner) % channels }
        var largest = [Float](repeating: 0, count: channels)
        for index in weights.indices {
            largest[channel(index)] = max(largest[channel(index)], abs(weights[index]))
        }
        let scales = largest.map { $0 > 0 ? $0 / limit : 1 }
        self.scales = scales
        let values = weights.indices.map { index in
            let scaled = (weights[index] / scales[channel(index)]).rounded(.toNearestOrEven)
            return scaled.isNaN ? 0 : Int8(min(max(scaled, -limit), limit))
        }
        self.values = values
        dequantized = values.indices.map { Float(values[$0]) * scales[channel($0)] }
    }
}
