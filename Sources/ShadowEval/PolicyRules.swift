/// Which breakdowns of the evidence must pass besides the whole, and how much evidence a breakdown
/// needs before it is judged (`slices:` in the policy file).
public struct SlicePolicy: Sendable, Codable, Equatable {
    public var dimensions: [SliceDimension]
    /// A slice with fewer paired samples is reported but not judged: its bounds would be too wide
    /// to fail anything, and judging it would still cost every other slice a share of alpha.
    public var minimumSamples: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dimensions
        case minimumSamples = "minimum-samples"
    }

    public init(dimensions: [SliceDimension], minimumSamples: Int) {
        self.dimensions = dimensions
        self.minimumSamples = minimumSamples
    }
}

/// What a slice is cut by.
public enum SliceDimension: String, Sendable, Codable, CaseIterable {
    /// Ground-truth class for labelled evidence, the reference's top-1 class otherwise.
    case `class`
    /// The device class an agent reports (a product line).
    case deviceClass = "device-class"
    /// The integer kernel path the agent's CPU selected (scalar, avx2, ...).
    case kernelPath = "kernel-path"
}

/// Limits on the candidate's cost next to the reference's (`guards:` in the policy file). A
/// candidate that breaks one stays on FP16 whatever its accuracy: it was meant to be cheaper.
public struct PolicyGuards: Sendable, Codable, Equatable {
    /// Largest allowed candidate latency / reference latency, e.g. 1.0: a quantile of the per-request
    /// ratio with betting bounds (`LatencyGuard`), the ratio of mean latencies with beta-binomial.
    public var maximumLatencyRatio: Double?
    /// The quantile of the per-request latency ratio the limit applies to; nil is the median.
    public var latencyQuantile: Double?
    /// Largest allowed candidate memory / reference memory, e.g. 0.5.
    public var maximumMemoryRatio: Double?

    /// The median: a candidate slower on most requests than the limit allows breaks the guard.
    public static let defaultLatencyQuantile = 0.5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maximumLatencyRatio = "max-latency-ratio"
        case latencyQuantile = "latency-quantile"
        case maximumMemoryRatio = "max-memory-ratio"
    }

    public init(maximumLatencyRatio: Double? = nil, latencyQuantile: Double? = nil, maximumMemoryRatio: Double? = nil) {
        self.maximumLatencyRatio = maximumLatencyRatio
        self.latencyQuantile = latencyQuantile
        self.maximumMemoryRatio = maximumMemoryRatio
    }
}

/// How often the coordinator evaluates a stage (`evaluation:` in the policy file): once `everyWindows`
/// windows have arrived since its last evaluation, or `everyMillis` after it once any window is
/// waiting, whichever comes first. A `collecting` decision row is recorded only then, not per window.
/// The bounds are anytime-valid, so evaluating less often costs only the wait until the next one.
public struct EvaluationCadence: Sendable, Codable, Equatable {
    public var everyWindows: Int
    public var everyMillis: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case everyWindows = "every-windows"
        case everyMillis = "every-ms"
    }

    public init(everyWindows: Int, everyMillis: Int) {
        self.everyWindows = everyWindows
        self.everyMillis = everyMillis
    }
}
