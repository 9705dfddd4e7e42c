/// How the simulated rollouts of one scenario (one kind of evidence, one true drop) ended.
public struct ScenarioResult: Sendable, Equatable {
    public var evidence: PolicySimulation.Evidence
    public var trueDrop: Double
    public var runs: Int
    /// Runs per final outcome; `collecting` counts the runs that reached the sample limit undecided.
    public private(set) var outcomes: [Outcome: Int] = [:]
    /// Samples each run used (to its decision, or the limit), summed.
    public private(set) var totalSamples = 0

    init(evidence: PolicySimulation.Evidence, trueDrop: Double, runs: Int) {
        self.evidence = evidence
        self.trueDrop = trueDrop
        self.runs = runs
    }

    mutating func record(_ outcome: Outcome, samples: Int) {
        outcomes[outcome, default: 0] += 1
        totalSamples += samples
    }

    /// Fraction of the runs that ended in `outcome`.
    public func rate(of outcome: Outcome) -> Double {
        Double(outcomes[outcome, default: 0]) / Double(runs)
    }

    /// Mean samples to a decision; undecided runs count with the sample limit, so when any run is
    /// undecided this is a lower bound.
    public var meanSamples: Double { Double(totalSamples) / Double(runs) }
}

/// Everything `quantfleet policy simulate` prints: per scenario rates and sample counts, and the
/// headline numbers per kind of evidence.
public struct PolicySimulationReport: Sendable {
    public var policy: Policy
    public var settings: PolicySimulation.Settings
    public var trueDrops: TrueDrops
    /// Evidence kinds in `PolicySimulation.Evidence.allCases` order, each at `trueDrops.all`.
    public var scenarios: [ScenarioResult]
    /// Coverage, when it was measured.
    public var coverage: [CoverageResult]
    /// The latency guard's runs: the sequential test, then the plug-in one, each at every true ratio.
    public var latencyGuard: [LatencyGuardResult] = []
    /// When coverage was measured, how often the latency quantile's sequence ever excluded the true
    /// ratio, by true ratio.
    public var latencyCoverage: [LatencyCoverageResult] = []
    /// The limit the latency guard's runs were judged against.
    public var latencyLimit: Double { LatencyGuardSimulation.limit(of: policy) }

    /// The headline numbers for one kind of evidence.
    public struct Summary: Sendable, Equatable, Encodable {
        /// Rate of `ship` when the true drop is exactly ship-below; the policy promises at most 1 - confidence.
        public var falseShipRateAtMargin: Double
        /// Rate of `stay-fp16` when the true drop is half of ship-below.
        public var falseRejectRate: Double
        /// Mean samples to a decision by true drop (keys are fractions, "0.002" for 0.2 %).
        public var meanSamples: [String: Double]
        /// Samples a fixed-sample test of the same confidence needs at the same drops.
        public var fixedNSamples: [String: Int]

        enum CodingKeys: String, CodingKey {
            case falseShipRateAtMargin = "false_ship_rate_at_margin"
            case falseRejectRate = "false_reject_rate"
            case meanSamples = "mean_samples"
            case fixedNSamples = "fixed_n_samples"
        }
    }

    public func scenario(_ evidence: PolicySimulation.Evidence, trueDrop: Double) -> ScenarioResult? {
        scenarios.first { $0.evidence == evidence && $0.trueDrop == trueDrop }
    }

    /// The n a fixed-sample test needs to reach the decision this drop calls for; nil at a
    /// threshold itself, where no n suffices.
    public func fixedSampleSize(_ evidence: PolicySimulation.Evidence, trueDrop: Double) -> Int? {
        let distances = [abs(trueDrop - policy.shipBelow), abs(trueDrop - policy.stayFP16Above)]
        guard let margin = distances.min(), margin > 0 else { return nil }
        let variance = evidence.metricVariance(trueDrop: trueDrop, candidateGainRate: settings.candidateGainRate)
        return FixedSampleSize.samples(variance: variance, margin: margin, confidence: policy.confidence)
    }

    public func summary(_ evidence: PolicySimulation.Evidence) -> Summary {
        let key = { (drop: Double) in "\(drop)" }
        return Summary(
            falseShipRateAtMargin: scenario(evidence, trueDrop: trueDrops.margin)?.rate(of: .ship) ?? 0,
            falseRejectRate: scenario(evidence, trueDrop: trueDrops.clearlyShippable)?.rate(of: .stayFP16) ?? 0,
            meanSamples: Dictionary(uniqueKeysWithValues: trueDrops.timed.compactMap { drop in
                scenario(evidence, trueDrop: drop).map { (key(drop), $0.meanSamples) }
            }),
            fixedNSamples: Dictionary(uniqueKeysWithValues: trueDrops.timed.compactMap { drop in
                fixedSampleSize(evidence, trueDrop: drop).map { (key(drop), $0) }
            }))
    }
}
