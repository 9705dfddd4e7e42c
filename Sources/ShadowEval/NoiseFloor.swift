/// The disagreement the float reference shows with itself: the same model and inputs under another
/// kernel path or thread count (summation order changes, so near-ties flip). Those flips are not
/// the candidate's doing; the excess over them is.
public enum NoiseFloor {
    /// Anytime-valid bounds on (candidate disagreement rate) - (reference-vs-itself disagreement
    /// rate), from two independent streams of paired samples. Each rate gets its own confidence
    /// sequence at alpha / 2, so by the union bound the difference holds at `confidence`.
    public static func excessDisagreement(
        candidate: AgreementCounts, referenceWithItself floor: AgreementCounts, confidence: Double,
        confidenceSequence: BetaBinomialConfidenceSequence = .rolloutDefault
    ) -> ClosedRange<Double> {
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got \(confidence)")
        let alpha = (1 - confidence) / 2
        let candidateRate = confidenceSequence.interval(
            successes: candidate.disagreements, trials: candidate.samples, alpha: alpha)
        let floorRate = confidenceSequence.interval(successes: floor.disagreements, trials: floor.samples, alpha: alpha)
        return (candidateRate.lowerBound - floorRate.upperBound)...(candidateRate.upperBound - floorRate.lowerBound)
    }
}
