extension PolicySimulation {
    /// Coverage of each evidence kind at the margin and at the smallest timed drop, run concurrently.
    func coverageResults() async -> [CoverageResult] {
        let cases = Evidence.allCases.flatMap { evidence in [trueDrops.small, trueDrops.margin].map { (evidence, $0) } }
        return await runConcurrently(cases) { index, scenario in
            let (evidence, drop) = scenario
            return CoverageResult(
                evidence: evidence, trueDrop: drop,
                failureRate: self.coverageFailureRate(evidence: evidence, trueDrop: drop, stream: UInt64(index)))
        }
    }

    /// The fraction of `settings.runs` rollouts at `trueDrop` in which the confidence sequence the
    /// policy's `bounds` build ever excluded the truth, checked after every window up to
    /// `settings.maximumSamples`, whatever the decisions: at most 1 - confidence when the sequence
    /// holds uniformly over time, as an anytime-valid one must.
    ///
    /// Betting bounds are checked on the process the drop's bound comes from (the paired difference,
    /// or the disagreement rate). Beta-binomial labelled bounds are two sequences at alpha / 2, and a
    /// run counts when either excludes its true rate: the event the union bound covers.
    public func coverageFailureRate(evidence: Evidence, trueDrop: Double, stream: UInt64 = 0) -> Double {
        var seeder = SeededGenerator(seed: settings.seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        var generator = SeededGenerator(seed: seeder.next())
        let alpha = 1 - policy.confidence
        let lossRate = trueDrop + settings.candidateGainRate
        var failures = 0
        for _ in 0..<settings.runs {
            var totals = EvidenceTotals()
            while totals.samples < settings.maximumSamples {
                let size = min(settings.windowSize, settings.maximumSamples - totals.samples)
                totals.append(evidence.window(
                    of: size, trueDrop: trueDrop, candidateGainRate: settings.candidateGainRate, using: &generator))
                if excludes(totals, evidence: evidence, trueDrop: trueDrop, lossRate: lossRate, alpha: alpha) {
                    failures += 1
                    break
                }
            }
        }
        return Double(failures) / Double(settings.runs)
    }

    private func excludes(_ totals: EvidenceTotals, evidence: Evidence, trueDrop: Double, lossRate: Double, alpha: Double) -> Bool {
        let sequence = BetaBinomialConfidenceSequence.rolloutDefault
        switch (policy.bounds, evidence) {
        case (.betting, .labelled):
            return BettingConfidenceSequence.rejects(totals.bets.pairedDifference, mean: (1 + trueDrop) / 2, alpha: alpha)
        case (.betting, .unlabelled):
            return BettingConfidenceSequence.rejects(totals.bets.disagreement, mean: trueDrop, alpha: alpha)
        case (.betaBinomial, .labelled):
            return !sequence.contains(rate: lossRate, successes: totals.referenceOnlyCorrect, trials: totals.labelled, alpha: alpha / 2)
                || !sequence.contains(
                    rate: settings.candidateGainRate, successes: totals.candidateOnlyCorrect, trials: totals.labelled, alpha: alpha / 2)
        case (.betaBinomial, .unlabelled):
            return !sequence.contains(rate: trueDrop, successes: totals.disagreements, trials: totals.samples, alpha: alpha)
        }
    }
}

/// How often a confidence sequence ever excluded the truth over a simulated rollout.
public struct CoverageResult: Sendable, Equatable, Encodable {
    public var evidence: PolicySimulation.Evidence
    public var trueDrop: Double
    /// Fraction of runs; the policy allows 1 - confidence.
    public var failureRate: Double

    enum CodingKeys: String, CodingKey {
        case evidence
        case trueDrop = "true_drop"
        case failureRate = "failure_rate"
    }
}
