/// Symmetric int8 quantization of a weight tensor, one scale per output channel or one for the
/// whole tensor: q = round_half_even(w / scale) within the `WeightRange`, zero point 0
/// (onnxruntime's convention for symmetric int8 weights; -128 stays unused so negation is exact).
/// The scale is the smallest the range allows: max |w| / 127 (63 when reduced), and for
/// `pairSafe` at least max (|w[2j]| + |w[2j + 1]|) / 128 over pairs along the reduction axes.
struct SymmetricInt8Quantization {
    static let fullLimit: Float = 127
    static let reducedLimit: Float = 63
    /// The largest |q[2j]| + |q[2j + 1]| a pair-safe weight has.
    static let pairLimit = 128

    let values: [Int8]
    /// One per output channel when per-channel, else a single scale.
    let scales: [Float]
    /// `values` times their scales: what DequantizeLinear gives back.
    let dequantized: [Float]

    /// - Parameters:
    ///   - outputChannelAxis: the axis of output channels; every other axis is reduced over, in
    ///     row-major order (K of a MatMul weight [K, N] with axis 1; C x kH x kW of a Conv weight).
    ///   - perChannel: one scale per output channel, else one for the tensor.
    init(_ weights: [Float], shape: [Int], outputChannelAxis: Int, perChannel: Bool, range: WeightRange) {
        precondition(weights.count == shape.reduce(1, *), "weights hold \(weights.count) values, not shape \(shape)")
        let limit = range == .reduced ? Self.reducedLimit : Self.fullLimit
        let layout = ReductionLayout(shape: shape, outputChannelAxis: outputChannelAxis)
        let group = { (index: Int) in perChannel ? layout.channel(of: index) : 0 }
        var largest = [Float](repeating: 0, count: perChannel ? layout.channels : 1)
        for index in weights.indices {
            largest[group(index)] = max(largest[group(index)], abs(weights[index]) / limit)
            if range == .pairSafe, let partner = layout.pairPartner(of: index) {
                largest[group(index)] = max(largest[group(index)], (abs(weights[index]) + abs(weights[partner])) / Float(Self.pairLimit))
            }
        }
        // A channel of zeros, or of values so small its scale would be subnormal, gets scale 1 and
        // levels 0: some runtimes flush subnormal scales to zero.
        let scales = largest.map { $0.isNormal ? $0 : 1 }
        self.scales = scales
        var values = weights.indices.map { index in
            let scaled = (weights[index] / scales[group(index)]).rounded(.toNearestOrEven)
            return scaled.isNaN ? 0 : Int8(min(max(scaled, -limit), limit))
        }
        if range == .pairSafe {
            // Exact halves cannot push a pair past the limit (one of them rounds down to even), but
            // float division can land both just above .5: take back the level rounding added most to.
            for index in weights.indices {
                guard let partner = layout.pairPartner(of: index), partner > index,
                      abs(Int(values[index])) + abs(Int(values[partner])) > Self.pairLimit else { continue }
                let excess = { (position: Int) in abs(Float(values[position])) - abs(weights[position] / scales[group(position)]) }
                let trimmed = excess(index) >= excess(partner) ? index : partner
                values[trimmed] -= values[trimmed].signum()
            }
        }
        self.values = values
        dequantized = values.indices.map { Float(values[$0]) * scales[group($0)] }
    }
}

/// Where each element of a weight sits: its output channel, and its position along the reduction
/// (the other axes in row-major order), which is what kernels pair up.
private struct ReductionLayout {
    let channels: Int
    private let inner: Int
    private let outer: Int

    init(shape: [Int], outputChannelAxis axis: Int) {
        channels = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
        outer = shape[..<axis].reduce(1, *)
    }

    func channel(of index: Int) -> Int { (index / inner) % channels }

    /// The element multiplied in the same pair: reduction position 2j with 2j + 1, same channel.
    func pairPartner(of index: Int) -> Int? {
        let position = (index / (inner * channels)) * inner + index % inner
        let partnerPosition = position ^ 1
        guard partnerPosition < outer * inner else { return nil }
        return (partnerPosition / inner) * inner * channels + channel(of: index) * inner + partnerPosition % inner
    }
}
