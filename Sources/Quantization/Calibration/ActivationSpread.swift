/// Running extremes and standard deviation of one tensor's values over the calibration rows,
/// accumulated in Double so millions of values do not lose the small ones. NaNs are skipped.
struct ActivationSpread {
    private(set) var lowest = Float.infinity
    private(set) var highest = -Float.infinity
    private var count = 0.0, sum = 0.0, sumOfSquares = 0.0

    mutating func add(_ values: [Float]) {
        for value in values where !value.isNaN {
            lowest = min(lowest, value)
            highest = max(highest, value)
            let wide = Double(value)
            sum += wide
            sumOfSquares += wide * wide
            count += 1
        }
    }

    /// The smallest and largest value seen, nil before any.
    var range: ClosedRange<Float>? { count > 0 && lowest <= highest ? lowest...highest : nil }

    var standardDeviation: Float {
        guard count > 0 else { return 0 }
        let mean = sum / count
        return Float(max(sumOfSquares / count - mean * mean, 0).squareRoot())
    }
}
