/// Counts of values in equal-width bins over a fixed range that contains zero.
struct ValueHistogram {
    let lower: Float
    let upper: Float
    private(set) var counts: [Double]

    static let defaultBins = 2048

    init(lower: Float, upper: Float, bins: Int = defaultBins) {
        self.lower = min(lower, 0)
        self.upper = max(upper, 0)
        counts = Array(repeating: 0, count: bins)
    }

    var binWidth: Float { (upper - lower) / Float(counts.count) }

    func center(ofBin bin: Int) -> Float { lower + (Float(bin) + 0.5) * binWidth }

    mutating func add(_ values: [Float]) {
        guard upper > lower else {
            counts[0] += Double(values.count)
            return
        }
        let last = counts.count - 1, scale = Float(counts.count) / (upper - lower)
        for value in values where !value.isNaN {
            counts[min(max(Int((value - lower) * scale), 0), last)] += 1
        }
    }
}
