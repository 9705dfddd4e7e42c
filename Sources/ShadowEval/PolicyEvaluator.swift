import Foundation

/// Turns a rollout's evidence into a decision under a policy.
public enum PolicyEvaluator {
    /// Decides on the accuracy drop, measured on labelled samples once there are at least
    /// `policy.minimumLabelled` of them, otherwise bounded by the top-1 disagreement rate.
    ///
    /// With [lower, upper] the anytime-valid confidence interval of the drop:
    /// - fewer than `policy.minimumSamples` paired samples: `collecting`;
    /// - upper < `shipBelow`: `ship` (the drop is small, with confidence);
    /// - lower > `stayFP16Above`: `stay-fp16` (the drop is large, with confidence);
    /// - lower >= `shipBelow` and upper <= `stayFP16Above`: `needs-qat` (the drop is inside the band);
    /// - otherwise `collecting`: the interval still straddles a threshold.
    ///
    /// Disagreement only bounds the drop from above, so without labels a model is shipped or held
    /// on an upper bound that may be pessimistic, never on an optimistic one.
    public static func decide(_ totals: EvidenceTotals, policy: Policy) -> Decision {
        let estimate = estimate(totals, policy: policy)
        let outcome = outcome(for: estimate.bounds, totals: totals, policy: policy)
        return Decision(
            outcome: outcome,
            metric: estimate.metric.rawValue, n: estimate.n, statistic: estimate.statistic,
            lowerBound: estimate.bounds.lowerBound, upperBound: estimate.bounds.upperBound,
            confidence: policy.confidence, policyVersion: policy.version,
            reason: reason(for: outcome, estimate: estimate, totals: totals, policy: policy),
            shipBelow: policy.shipBelow, stayFP16Above: policy.stayFP16Above, boundMethod: policy.bounds)
    }

    /// The outcome `decide` would return, without the audit record: simulations evaluate the
    /// policy millions of times, and formatting each reason would cost more than the bounds. Betting
    /// bounds on one process are not even computed: whether the sequence has excluded each threshold
    /// is one wealth each, where an interval end takes a bisection of them (the same outcome, except
    /// when an end lies within rounding of a threshold).
    static func outcome(_ totals: EvidenceTotals, policy: Policy) -> Outcome {
        if totals.samples < policy.minimumSamples || awaitsLabels(totals, policy: policy) { return .collecting }
        let metric = metric(totals, policy: policy)
        if let thresholds = DropBounds(method: policy.bounds, alpha: 1 - policy.confidence).thresholds(totals, metric: metric) {
            if thresholds.upperIsBelow(policy.shipBelow) { return .ship }
            if thresholds.lowerIsAbove(policy.stayFP16Above) { return .stayFP16 }
            let insideBand = thresholds.lowerIsAbove(policy.shipBelow) && thresholds.upperIsBelow(policy.stayFP16Above)
            return insideBand ? .needsQAT : .collecting
        }
        return outcome(for: estimate(totals, policy: policy).bounds, totals: totals, policy: policy)
    }

    /// `require-labels`, and too few labels yet to decide on them.
    private static func awaitsLabels(_ totals: EvidenceTotals, policy: Policy) -> Bool {
        policy.requiresLabels && totals.labelled < policy.minimumLabelled
    }

    /// The evidence a decision rests on: labels once there are enough, else disagreement, in excess
    /// of the noise floor when the policy says so and agents measured one.
    private static func metric(_ totals: EvidenceTotals, policy: Policy) -> DecisionMetric {
        if totals.labelled >= policy.minimumLabelled { return .labelledAccuracyDrop }
        return policy.subtractsNoiseFloor && totals.floorSamples > 0 ? .excessDisagreement : .disagreement
    }

    private static func estimate(_ totals: EvidenceTotals, policy: Policy) -> DropEstimate {
        let bounds = DropBounds(method: policy.bounds, alpha: 1 - policy.confidence)
        let rate = totals.samples == 0 ? 0 : Double(totals.disagreements) / Double(totals.samples)
        switch metric(totals, policy: policy) {
        case .labelledAccuracyDrop:
            return DropEstimate(
                metric: .labelledAccuracyDrop, n: totals.labelled,
                statistic: Double(totals.referenceOnlyCorrect - totals.candidateOnlyCorrect) / Double(totals.labelled),
                bounds: bounds.labelledDrop(totals))
        case .disagreement:
            return DropEstimate(metric: .disagreement, n: totals.samples, statistic: rate, bounds: bounds.disagreement(totals))
        case .excessDisagreement:
            return DropEstimate(
                metric: .excessDisagreement, n: totals.samples,
                statistic: rate - Double(totals.floorDisagreements) / Double(totals.floorSamples),
                bounds: bounds.excessDisagreement(totals))
        }
    }

    private struct DropEstimate {
        var metric: DecisionMetric
        var n: Int
        var statistic: Double
        var bounds: ClosedRange<Double>
    }

    private static func outcome(for bounds: ClosedRange<Double>, totals: EvidenceTotals, policy: Policy) -> Outcome {
        if totals.samples < policy.minimumSamples || awaitsLabels(totals, policy: policy) { return .collecting }
        if bounds.upperBound < policy.shipBelow { return .ship }
        if bounds.lowerBound > policy.stayFP16Above { return .stayFP16 }
        if bounds.lowerBound >= policy.shipBelow && bounds.upperBound <= policy.stayFP16Above { return .needsQAT }
        return .collecting
    }

    private static func reason(for outcome: Outcome, estimate: DropEstimate, totals: EvidenceTotals, policy: Policy) -> String {
        let samples = totals.samples
        let percent = { (fraction: Double) in String(format: "%.2f %%", fraction * 100) }
        let bounds = "\(percent(policy.confidence)) bounds [\(percent(estimate.bounds.lowerBound)), "
            + "\(percent(estimate.bounds.upperBound))] on \(estimate.metric.rawValue) over \(estimate.n) samples"
        switch outcome {
        case .collecting where samples < policy.minimumSamples:
            return "\(samples) paired samples, fewer than minimum-samples \(policy.minimumSamples)"
        case .collecting where awaitsLabels(totals, policy: policy):
            return "\(totals.labelled) labelled samples, fewer than minimum-labelled \(policy.minimumLabelled), which require-labels waits for"
        case .collecting:
            return "\(bounds) still straddle ship-below \(percent(policy.shipBelow)) or stay-fp16-above \(percent(policy.stayFP16Above))"
        case .ship:
            return "upper bound below ship-below \(percent(policy.shipBelow)): \(bounds)"
        case .stayFP16:
            return "lower bound above stay-fp16-above \(percent(policy.stayFP16Above)): \(bounds)"
        case .needsQAT:
            return "inside [\(percent(policy.shipBelow)), \(percent(policy.stayFP16Above))]: \(bounds)"
        }
    }
}
