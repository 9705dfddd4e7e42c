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
    public static func decide(
        _ totals: EvidenceTotals, policy: Policy,
        confidenceSequence: BetaBinomialConfidenceSequence = .rolloutDefault
    ) -> Decision {
        let estimate = estimate(totals, policy: policy, confidenceSequence: confidenceSequence)
        let outcome = outcome(for: estimate.bounds, samples: totals.samples, policy: policy)
        return Decision(
            outcome: outcome,
            metric: estimate.metric.rawValue, n: estimate.n, statistic: estimate.statistic,
            lowerBound: estimate.bounds.lowerBound, upperBound: estimate.bounds.upperBound,
            confidence: policy.confidence, policyVersion: policy.version,
            reason: reason(for: outcome, estimate: estimate, samples: totals.samples, policy: policy),
            shipBelow: policy.shipBelow, stayFP16Above: policy.stayFP16Above)
    }

    /// The outcome `decide` would return, without the audit record: simulations evaluate the
    /// policy millions of times, and formatting each reason would cost more than the bounds.
    static func outcome(_ totals: EvidenceTotals, policy: Policy) -> Outcome {
        let estimate = estimate(totals, policy: policy, confidenceSequence: .rolloutDefault)
        return outcome(for: estimate.bounds, samples: totals.samples, policy: policy)
    }

    private static func estimate(
        _ totals: EvidenceTotals, policy: Policy, confidenceSequence: BetaBinomialConfidenceSequence
    ) -> DropEstimate {
        let alpha = 1 - policy.confidence
        return totals.labelled >= policy.minimumLabelled
            ? labelledDrop(totals, alpha: alpha, confidenceSequence: confidenceSequence)
            : disagreement(totals, alpha: alpha, subtractsNoiseFloor: policy.subtractsNoiseFloor, confidenceSequence: confidenceSequence)
    }

    private struct DropEstimate {
        var metric: DecisionMetric
        var n: Int
        var statistic: Double
        var bounds: ClosedRange<Double>
    }

    private static func disagreement(
        _ totals: EvidenceTotals, alpha: Double, subtractsNoiseFloor: Bool, confidenceSequence: BetaBinomialConfidenceSequence
    ) -> DropEstimate {
        let n = totals.samples
        let rate = n == 0 ? 0 : Double(totals.disagreements) / Double(n)
        guard subtractsNoiseFloor, totals.floorSamples > 0 else {
            return DropEstimate(
                metric: .disagreement, n: n, statistic: rate,
                bounds: confidenceSequence.interval(successes: totals.disagreements, trials: n, alpha: alpha))
        }
        let floor = AgreementCounts(samples: totals.floorSamples, agreements: totals.floorSamples - totals.floorDisagreements)
        return DropEstimate(
            metric: .excessDisagreement, n: n,
            statistic: rate - Double(totals.floorDisagreements) / Double(totals.floorSamples),
            bounds: NoiseFloor.excessDisagreement(
                candidate: AgreementCounts(samples: n, agreements: n - totals.disagreements), referenceWithItself: floor,
                confidence: 1 - alpha, confidenceSequence: confidenceSequence))
    }

    /// The drop is the difference of two rates over the same labelled samples; a union bound over
    /// two sequences at alpha/2 each keeps the pair's joint coverage at 1 - alpha.
    private static func labelledDrop(
        _ totals: EvidenceTotals, alpha: Double, confidenceSequence: BetaBinomialConfidenceSequence
    ) -> DropEstimate {
        let n = totals.labelled
        let losses = confidenceSequence.interval(successes: totals.referenceOnlyCorrect, trials: n, alpha: alpha / 2)
        let gains = confidenceSequence.interval(successes: totals.candidateOnlyCorrect, trials: n, alpha: alpha / 2)
        return DropEstimate(
            metric: .labelledAccuracyDrop, n: n,
            statistic: Double(totals.referenceOnlyCorrect - totals.candidateOnlyCorrect) / Double(n),
            bounds: (losses.lowerBound - gains.upperBound)...(losses.upperBound - gains.lowerBound))
    }

    private static func outcome(for bounds: ClosedRange<Double>, samples: Int, policy: Policy) -> Outcome {
        if samples < policy.minimumSamples { return .collecting }
        if bounds.upperBound < policy.shipBelow { return .ship }
        if bounds.lowerBound > policy.stayFP16Above { return .stayFP16 }
        if bounds.lowerBound >= policy.shipBelow && bounds.upperBound <= policy.stayFP16Above { return .needsQAT }
        return .collecting
    }

    private static func reason(for outcome: Outcome, estimate: DropEstimate, samples: Int, policy: Policy) -> String {
        let percent = { (fraction: Double) in String(format: "%.2f %%", fraction * 100) }
        let bounds = "\(percent(policy.confidence)) bounds [\(percent(estimate.bounds.lowerBound)), "
            + "\(percent(estimate.bounds.upperBound))] on \(estimate.metric.rawValue) over \(estimate.n) samples"
        switch outcome {
        case .collecting where samples < policy.minimumSamples:
            return "\(samples) paired samples, fewer than minimum-samples \(policy.minimumSamples)"
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
