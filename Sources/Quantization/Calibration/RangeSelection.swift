import Foundation

/// Chooses the quantization range of one activation from its calibration histogram.
enum RangeSelection {
    /// Share of values `percentile` clips at each end (onnxruntime's default percentile is 99.999).
    static let percentileTail = 0.00001
    /// The clipping candidates `mse` and `entropy` try: the observed range scaled toward zero by these.
    static let shrinkFactors: [Float] = stride(from: 100, through: 10, by: -1).map { Float($0) / 100 }

    static func range(_ method: CalibrationMethod, histogram: ValueHistogram) -> ClosedRange<Float> {
        let observed = histogram.lower...histogram.upper
        switch method {
        case .minmax:
            return observed
        case .percentile:
            return percentileRange(histogram)
        case .mse:
            return best(histogram) { meanSquaredError(histogram, range: $0) }
        case .entropy:
            return best(histogram) { klDivergence(histogram, range: $0) }
        }
    }

    private static func best(_ histogram: ValueHistogram, loss: (ClosedRange<Float>) -> Double) -> ClosedRange<Float> {
        guard histogram.upper > histogram.lower else { return histogram.lower...histogram.upper }
        let candidates = shrinkFactors.map { (histogram.lower * $0)...(histogram.upper * $0) }
        return candidates.min { loss($0) < loss($1) }!
    }

    private static func percentileRange(_ histogram: ValueHistogram) -> ClosedRange<Float> {
        let total = histogram.counts.reduce(0, +)
        guard total > 0 else { return histogram.lower...histogram.upper }
        let tail = total * percentileTail
        var below = 0.0, lowerBin = 0
        while lowerBin < histogram.counts.count - 1, below + histogram.counts[lowerBin] <= tail {
            below += histogram.counts[lowerBin]
            lowerBin += 1
        }
        var above = 0.0, upperBin = histogram.counts.count - 1
        while upperBin > lowerBin, above + histogram.counts[upperBin] <= tail {
            above += histogram.counts[upperBin]
            upperBin -= 1
        }
        let lower = histogram.lower + Float(lowerBin) * histogram.binWidth
        let upper = histogram.lower + Float(upperBin + 1) * histogram.binWidth
        return min(lower, 0)...max(upper, 0)
    }

    /// Expected squared error of quantizing the histogram's values (at their bin centres) to `range`:
    /// clipping error outside it, rounding error inside.
    private static func meanSquaredError(_ histogram: ValueHistogram, range: ClosedRange<Float>) -> Double {
        let quantization = ActivationQuantization(range: range)
        var error = 0.0
        for (bin, count) in histogram.counts.enumerated() where count > 0 {
            let value = histogram.center(ofBin: bin)
            let difference = Double(value - quantization.roundTrip(value))
            error += count * difference * difference
        }
        return error
    }

    /// KL(P || Q) as TensorRT's entropy calibration measures it: P is the histogram with the values
    /// outside `range` folded into its edge bins; Q spreads each quantization level's share of the
    /// in-range values evenly over that level's occupied bins, so clipped mass is missing from Q.
    private static func klDivergence(_ histogram: ValueHistogram, range: ClosedRange<Float>) -> Double {
        let quantization = ActivationQuantization(range: range)
        let inside = histogram.counts.indices.filter { range.contains(histogram.center(ofBin: $0)) }
        guard let first = inside.first, let last = inside.last else { return .infinity }
        var reference = inside.map { histogram.counts[$0] }
        reference[0] += histogram.counts[..<first].reduce(0, +)
        reference[reference.count - 1] += histogram.counts[(last + 1)...].reduce(0, +)

        let levels = inside.map { bin in
            Int((histogram.center(ofBin: bin) / quantization.scale).rounded(.toNearestOrEven)) + Int(quantization.zeroPoint)
        }
        var levelMass: [Int: Double] = [:], levelOccupied: [Int: Double] = [:]
        for (position, bin) in inside.enumerated() where histogram.counts[bin] > 0 {
            levelMass[levels[position], default: 0] += histogram.counts[bin]
            levelOccupied[levels[position], default: 0] += 1
        }
        let candidate = inside.enumerated().map { position, bin in
            histogram.counts[bin] > 0 ? levelMass[levels[position]]! / levelOccupied[levels[position]]! : 0
        }
        let referenceTotal = reference.reduce(0, +), candidateTotal = candidate.reduce(0, +)
        guard referenceTotal > 0, candidateTotal > 0 else { return .infinity }
        // Q is zero where only folded outliers put P's mass; a floor keeps the divergence finite
        // while still charging heavily for the clipping.
        let floor = 1e-8
        return zip(reference, candidate).reduce(0) { sum, pair in
            let p = pair.0 / referenceTotal
            guard p > 0 else { return sum }
            return sum + p * log(p / max(pair.1 / candidateTotal, floor))
        }
    }
}
