/// The anytime-valid bounds on each drop metric, by one confidence-sequence method at one alpha.
struct DropBounds {
    var method: BoundMethod
    var alpha: Double

    /// The labelled drop, P(reference alone right) - P(candidate alone right) over the same samples.
    ///
    /// Betting bounds the paired difference as one bounded mean (each sample -1, 0 or 1, mapped onto
    /// [0, 1]), at the whole alpha. The beta-binomial mixture bounds each discordant rate at
    /// alpha / 2 and takes the difference: by the union bound the pair holds at 1 - alpha.
    func labelledDrop(_ totals: EvidenceTotals) -> ClosedRange<Double> {
        switch method {
        case .betting:
            checkRecorded(totals.bets.pairedDifference, holds: totals.labelled, of: "labelled samples")
            let mean = totals.bets.pairedDifference.interval(alpha: alpha)
            return (2 * mean.lowerBound - 1)...(2 * mean.upperBound - 1)
        case .betaBinomial:
            let sequence = BetaBinomialConfidenceSequence.rolloutDefault
            let losses = sequence.interval(successes: totals.referenceOnlyCorrect, trials: totals.labelled, alpha: alpha / 2)
            let gains = sequence.interval(successes: totals.candidateOnlyCorrect, trials: totals.labelled, alpha: alpha / 2)
            return (losses.lowerBound - gains.upperBound)...(losses.upperBound - gains.lowerBound)
        }
    }

    /// The disagreement rate.
    func disagreement(_ totals: EvidenceTotals) -> ClosedRange<Double> {
        rate(totals.bets.disagreement, successes: totals.disagreements, trials: totals.samples, alpha: alpha)
    }

    /// The disagreement rate in excess of the reference's with itself (the noise floor). The two
    /// rates come from separately sampled streams, so their difference is no single bounded mean:
    /// each rate gets its own sequence at alpha / 2 and the difference of the intervals holds at
    /// 1 - alpha by the union bound, with either method.
    func excessDisagreement(_ totals: EvidenceTotals) -> ClosedRange<Double> {
        NoiseFloor.excess(
            candidate: rate(totals.bets.disagreement, successes: totals.disagreements, trials: totals.samples, alpha: alpha / 2),
            floor: rate(totals.bets.floor, successes: totals.floorDisagreements, trials: totals.floorSamples, alpha: alpha / 2))
    }

    /// Where the betting sequence stands against thresholds, without its interval: for a metric that
    /// is one process (the labelled drop, the disagreement rate); nil for the mixture or the excess.
    func thresholds(_ totals: EvidenceTotals, metric: DecisionMetric) -> ThresholdChecks? {
        guard method == .betting else { return nil }
        switch metric {
        case .labelledAccuracyDrop:
            checkRecorded(totals.bets.pairedDifference, holds: totals.labelled, of: "labelled samples")
            return ThresholdChecks(tally: totals.bets.pairedDifference, alpha: alpha) { (1 + $0) / 2 }
        case .disagreement:
            checkRecorded(totals.bets.disagreement, holds: totals.samples, of: "samples")
            return ThresholdChecks(tally: totals.bets.disagreement, alpha: alpha) { $0 }
        case .excessDisagreement:
            return nil
        }
    }

    /// The comparisons a decision makes, each one wealth of one betting process.
    struct ThresholdChecks {
        var tally: BettingTally
        var alpha: Double
        /// A drop as the process's mean.
        var mean: (Double) -> Double

        func upperIsBelow(_ drop: Double) -> Bool {
            BettingConfidenceSequence.excludesFrom(tally, mean: mean(drop), alpha: alpha)
        }
        func lowerIsAbove(_ drop: Double) -> Bool {
            BettingConfidenceSequence.excludesUpTo(tally, mean: mean(drop), alpha: alpha)
        }
    }

    private func rate(_ tally: BettingTally, successes: Int, trials: Int, alpha: Double) -> ClosedRange<Double> {
        switch method {
        case .betting:
            checkRecorded(tally, holds: trials, of: "samples")
            return tally.interval(alpha: alpha)
        case .betaBinomial:
            return BetaBinomialConfidenceSequence.rolloutDefault.interval(successes: successes, trials: trials, alpha: alpha)
        }
    }

    /// Betting needs the windows' order, so totals judged by it must have been built window by window
    /// (`EvidenceTotals.append`); counts summed any other way have no betting process to read.
    private func checkRecorded(_ tally: BettingTally, holds count: Int, of what: String) {
        precondition(
            tally.observations == count,
            "the betting process holds \(tally.observations) of \(count) \(what): totals judged by betting bounds are built window by window")
    }
}
