import Foundation

/// `guards.max-latency-ratio`: is the candidate slower than the limit allows?
///
/// With betting bounds (the default) the guard is a sequential test, as the accuracy decision is:
/// anytime-valid bounds (`QuantileConfidenceSequence`) on a quantile of the per-request latency
/// ratio, candidate over reference, both measured on the same request on the same device. So the
/// fleet's spread of device speeds cancels out of every observation, and the ratio needs no
/// assumption about how latencies are distributed (means of heavy-tailed latencies have no
/// distribution-free bound). The guard breaks when the lower bound is above the limit, and holds a
/// ship until the upper bound is at or below it: a wrong break, or a wrong clearance, happens with
/// probability at most 1 - confidence however often the stage is evaluated.
///
/// With `bounds: beta-binomial`, and for windows from agents that send no ratios, it is the plug-in
/// test every decision used before: mean latency per sample, compared with the limit once.
public struct LatencyGuard: Sendable {
    public var limit: Double
    /// The quantile of the per-request ratio judged: 0.5, the median, by default.
    public var quantile: Double
    public var confidence: Double
    public var method: BoundMethod

    public init(limit: Double, quantile: Double = PolicyGuards.defaultLatencyQuantile, confidence: Double, method: BoundMethod) {
        self.limit = limit
        self.quantile = quantile
        self.confidence = confidence
        self.method = method
    }

    /// The guard `policy` sets against `limit` (its quantile, its confidence), judged by `method`'s test.
    public init(policy: Policy, limit: Double, method: BoundMethod) {
        self.init(
            limit: limit, quantile: policy.guards?.latencyQuantile ?? PolicyGuards.defaultLatencyQuantile,
            confidence: policy.confidence, method: method)
    }

    /// The confidence sequence the sequential test reads.
    var sequence: QuantileConfidenceSequence { QuantileConfidenceSequence(quantile: quantile, alpha: 1 - confidence) }

    public enum Verdict: Sendable, Equatable {
        /// Within the limit, in words.
        case within(String)
        /// Above it: the candidate stays on FP16.
        case broken(String)
        /// Not yet known either way: a ship waits for it.
        case undecided(String)
    }

    /// What a verdict rests on: the sequential bounds, or the plug-in ratio of means.
    enum Measurement {
        case sequential(bounds: ClosedRange<Double>, ratios: LogHistogram)
        case plugIn(ratio: Double)
    }

    /// The verdict on the evidence, in words; nil when no latency was measured.
    public func judge(_ cost: CostEvidence) -> Verdict? {
        guard let measurement = measure(cost) else { return nil }
        let words: String
        switch measurement {
        case .sequential(let bounds, let ratios):
            let upper = bounds.upperBound.isFinite ? Self.times(bounds.upperBound) : "inf"
            words = "candidate latency is \(Self.times(ratios.quantile(quantile) ?? 0)) the reference's (\(quantileName) "
                + "per-request ratio, " + String(format: "%.2f %%", confidence * 100)
                + " bounds [\(Self.times(bounds.lowerBound)), \(upper)] over \(ratios.count - ratios.notANumber) requests)"
        case .plugIn(let ratio):
            // The betting default measures this way only for agents that predate per-request ratios.
            let note = method == .betting ? " (mean per sample: these agents send no per-request ratios)" : ""
            words = "candidate latency is \(Self.times(ratio)) the reference's\(note)"
        }
        switch Self.kind(of: measurement, limit: limit) {
        case .broken: return .broken("\(words), above max-latency-ratio \(limit)")
        case .within: return .within("\(words), within max-latency-ratio \(limit)")
        case .undecided: return .undecided("\(words), not yet clear of max-latency-ratio \(limit)")
        }
    }

    /// The verdict without its words: simulations judge millions of times.
    func kind(_ cost: CostEvidence) -> VerdictKind? {
        measure(cost).map { Self.kind(of: $0, limit: limit) }
    }

    enum VerdictKind { case within, broken, undecided }

    func measure(_ cost: CostEvidence) -> Measurement? {
        if method == .betting, let ratios = cost.latencyRatios, ratios.count - ratios.notANumber > 0 {
            return .sequential(bounds: sequence.interval(ratios), ratios: ratios)
        }
        guard let reference = cost.referenceMeanLatencyMicros, let candidate = cost.candidateMeanLatencyMicros, reference > 0 else {
            return nil
        }
        return .plugIn(ratio: candidate / reference)
    }

    private static func kind(of measurement: Measurement, limit: Double) -> VerdictKind {
        switch measurement {
        case .sequential(let bounds, _):
            if bounds.lowerBound > limit { return .broken }
            return bounds.upperBound <= limit ? .within : .undecided
        case .plugIn(let ratio):
            return ratio > limit ? .broken : .within
        }
    }

    /// "median", or "p90", "p99.9".
    var quantileName: String {
        quantile == 0.5 ? "median" : "p" + String(format: "%g", quantile * 100)
    }

    /// A ratio as "1.5x", to two decimals.
    static func times(_ value: Double) -> String {
        "\((value * 100).rounded() / 100)x"
    }
}
