/// Seeded simulations of rollouts under a policy: how often it decides wrongly, and how soon it
/// decides, run through the same `EvidenceTotals` and `PolicyEvaluator` bounds the coordinator uses.
///
/// Each run is one rollout: windows of paired samples arrive, the totals grow, and the policy is
/// evaluated after every window (as the coordinator does) until it reaches a final outcome or
/// `maximumSamples`, when the run counts as undecided.
public struct PolicySimulation: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Simulated rollouts per scenario.
        public var runs: Int
        public var seed: UInt64
        /// Paired samples per window; the policy is evaluated once per window.
        public var windowSize: Int
        /// A run still collecting after this many samples is counted as undecided.
        public var maximumSamples: Int
        /// Labelled runs: the probability that only the candidate is right on a sample. Quantized
        /// models win some inputs back; the drop is losses minus gains, so this sets how noisy the
        /// paired difference is at a given drop.
        public var candidateGainRate: Double
        /// The breakdowns judged besides the whole.
        public var slices: SliceSetup

        public init(
            runs: Int = 1000, seed: UInt64 = 1, windowSize: Int = 100, maximumSamples: Int = 100_000,
            candidateGainRate: Double = 0.005, slices: SliceSetup = .none
        ) {
            self.runs = runs
            self.seed = seed
            self.windowSize = windowSize
            self.maximumSamples = maximumSamples
            self.candidateGainRate = candidateGainRate
            self.slices = slices
        }

        /// Throws on the first setting that cannot describe a simulation.
        public func validate() throws(PolicySimulationError) {
            guard runs >= 1 else { throw .settingOutOfRange(name: "runs", value: "\(runs)", expected: "at least 1") }
            guard windowSize >= 1 else {
                throw .settingOutOfRange(name: "window size", value: "\(windowSize)", expected: "at least 1")
            }
            guard maximumSamples >= windowSize else {
                throw .settingOutOfRange(
                    name: "maximum samples", value: "\(maximumSamples)", expected: "at least the window size \(windowSize)")
            }
            guard candidateGainRate >= 0 && candidateGainRate < 0.5 else {
                throw .settingOutOfRange(name: "candidate gain rate", value: "\(candidateGainRate)", expected: "in [0, 0.5)")
            }
            guard slices == .none || windowSize % SliceSetup.classes == 0 else {
                throw .settingOutOfRange(
                    name: "window size", value: "\(windowSize)",
                    expected: "a multiple of \(SliceSetup.classes) with class slices, one share per simulated class")
            }
        }
    }

    /// The breakdowns a simulated rollout is judged on. Every slice has the same true drop, the
    /// hardest case for the multiplicity correction: each judged slice spends a share of alpha.
    public enum SliceSetup: String, Sendable, CaseIterable {
        /// The whole only.
        case none
        /// \(classes) classes, an equal share of every window each.
        case `class`
        /// Classes, and each window from one of \(deviceClasses) device classes and one of
        /// \(kernelPaths) kernel paths, drawn at random.
        case all = "class,device-class,kernel-path"

        public static let classes = 10
        public static let deviceClasses = 3
        public static let kernelPaths = 2

        var dimensions: [SliceDimension] {
            switch self {
            case .none: return []
            case .class: return [.class]
            case .all: return [.class, .deviceClass, .kernelPath]
            }
        }
    }

    /// What the coordinator sees in a simulated rollout.
    public enum Evidence: String, Sendable, Codable, CaseIterable {
        /// Every sample labelled: decided on the paired accuracy drop (losses minus gains).
        case labelled
        /// No labels: decided on top-1 disagreement. Each disagreement is simulated as a loss, the
        /// worst case in which the disagreement rate equals the drop, so the margin is tested as tight
        /// as disagreement evidence can make it.
        case unlabelled

        /// A window as an agent would seal it at this true drop (the load generator's agents send
        /// these too). Only the counts the policy reads are simulated: accuracy on concordant pairs
        /// (both right or both wrong) never enters the paired drop.
        public func window<Generator: RandomNumberGenerator>(
            of size: Int, trueDrop: Double, candidateGainRate gainRate: Double, using generator: inout Generator
        ) -> WindowSummary {
            switch self {
            case .unlabelled:
                let disagreements = BinomialSampling.sample(trials: size, probability: trueDrop, using: &generator)
                return WindowSummary(count: size, top1Agreements: size - disagreements)
            case .labelled:
                let lossRate = gainRate + trueDrop
                let losses = BinomialSampling.sample(trials: size, probability: lossRate, using: &generator)
                // Gains among the samples that were not losses: P(gain | not a loss) = g / (1 - l).
                let gains = BinomialSampling.sample(
                    trials: size - losses, probability: gainRate / (1 - lossRate), using: &generator)
                return WindowSummary(
                    count: size, top1Agreements: size - losses - gains, labelled: size,
                    referenceOnlyCorrect: losses, candidateOnlyCorrect: gains)
            }
        }

        /// Per-sample variance of the metric at a true drop, for the fixed-sample yardstick.
        public func metricVariance(trueDrop: Double, candidateGainRate: Double) -> Double {
            switch self {
            case .unlabelled:
                return trueDrop * (1 - trueDrop)
            case .labelled:
                // Each sample scores +1 (loss), -1 (gain) or 0: E[X^2] = losses + gains, E[X] = drop.
                return (2 * candidateGainRate + trueDrop) - trueDrop * trueDrop
            }
        }
    }

    public let policy: Policy
    public let settings: Settings

    public init(policy: Policy, settings: Settings = Settings()) throws(PolicySimulationError) {
        try settings.validate()
        guard TrueDrops(policy: policy).large + settings.candidateGainRate <= 1 else {
            throw .settingOutOfRange(
                name: "candidate gain rate", value: "\(settings.candidateGainRate)",
                expected: "small enough that gains plus the largest simulated drop stay a probability")
        }
        self.policy = policy
        self.settings = settings
    }

    /// The true drops the report is about, derived from the policy's bands (for ship-below 1 % and
    /// stay-fp16-above 3 %: 0.2 %, 0.5 %, 1 %, 2 %, 5 %).
    public var trueDrops: TrueDrops { TrueDrops(policy: policy) }

    /// Every evidence kind at every true drop, scenarios run concurrently, and the latency guard's
    /// scenarios (`LatencyGuardSimulation`); with `measuringCoverage`, also each evidence kind's
    /// coverage at the margin and at the smallest timed drop, and the latency quantile's at the limit.
    public func report(measuringCoverage: Bool = false) async -> PolicySimulationReport {
        let scenarios = Evidence.allCases.flatMap { evidence in trueDrops.all.map { (evidence, $0) } }
        let ordered = await runConcurrently(scenarios) { index, scenario in
            self.run(evidence: scenario.0, trueDrop: scenario.1, stream: UInt64(index))
        }
        let coverage = measuringCoverage ? await coverageResults() : []
        var report = PolicySimulationReport(
            policy: policy, settings: settings, trueDrops: trueDrops, scenarios: ordered, coverage: coverage)
        let latency = LatencyGuardSimulation(policy: policy, settings: settings)
        report.latencyGuard = await latency.results()
        if measuringCoverage { report.latencyCoverage = latency.coverageResults() }
        return report
    }

    /// `settings.runs` rollouts with one kind of evidence at one true drop. `stream` picks an
    /// independent random stream for this scenario, so results do not depend on the order scenarios run in.
    public func run(evidence: Evidence, trueDrop: Double, stream: UInt64 = 0) -> ScenarioResult {
        precondition(
            trueDrop >= 0 && trueDrop + settings.candidateGainRate <= 1,
            "true drop \(trueDrop) plus the gain rate is not a probability")
        // Each stream's seed is hashed (one SplitMix64 output): seeds spaced by SplitMix64's own
        // increment would give shifted copies of one sequence, not independent streams.
        var seeder = SeededGenerator(seed: settings.seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        var generator = SeededGenerator(seed: seeder.next())
        var result = ScenarioResult(evidence: evidence, trueDrop: trueDrop, runs: settings.runs)
        for _ in 0..<settings.runs {
            let (outcome, samples) = rollout(evidence: evidence, trueDrop: trueDrop, using: &generator)
            result.record(outcome, samples: samples)
        }
        return result
    }

    /// One rollout: windows until a final outcome or the sample limit.
    private func rollout(
        evidence: Evidence, trueDrop: Double, using generator: inout SeededGenerator
    ) -> (Outcome, samples: Int) {
        let judged = judgingPolicy
        var totals = RunningTotals()
        while totals.overall.samples < settings.maximumSamples {
            let size = min(settings.windowSize, settings.maximumSamples - totals.overall.samples)
            totals.append(slicedWindow(of: size, evidence: evidence, trueDrop: trueDrop, using: &generator))
            // Below the minimum the evaluator can only say `collecting`: skip its bisections.
            guard totals.overall.samples >= policy.minimumSamples else { continue }
            let outcome = PolicyEvaluator.outcome(RolloutEvidence(overall: totals.overall, slices: totals.slices), policy: judged)
            if outcome.isFinal { return (outcome, totals.overall.samples) }
        }
        return (.collecting, totals.overall.samples)
    }

    /// The policy with the setup's slices: judged once they hold the policy's own slice minimum, or
    /// its minimum-samples when it has no slices.
    private var judgingPolicy: Policy {
        var judged = policy
        judged.slices = settings.slices == .none ? nil : SlicePolicy(
            dimensions: settings.slices.dimensions, minimumSamples: policy.slices?.minimumSamples ?? policy.minimumSamples)
        return judged
    }

    /// A window and its slices. With class slices it is \(SliceSetup.classes) equal class shares, each
    /// drawn at the true drop; with every dimension it also comes from one device class and kernel path.
    private func slicedWindow(
        of size: Int, evidence: Evidence, trueDrop: Double, using generator: inout SeededGenerator
    ) -> RunningTotals {
        guard settings.slices != .none, size % SliceSetup.classes == 0 else {
            var whole = EvidenceTotals()
            whole.append(window(of: size, evidence: evidence, trueDrop: trueDrop, using: &generator))
            return RunningTotals(overall: whole)
        }
        var totals = RunningTotals()
        for index in 0..<SliceSetup.classes {
            var share = EvidenceTotals()
            share.append(window(of: size / SliceSetup.classes, evidence: evidence, trueDrop: trueDrop, using: &generator))
            totals.overall.merge(share)
            totals.slices[SliceKey(.class, String(index))] = share
        }
        totals.overall.windows = 1
        if settings.slices == .all {
            totals.slices[SliceKey(.deviceClass, "d\(Int.random(in: 0..<SliceSetup.deviceClasses, using: &generator))")] = totals.overall
            totals.slices[SliceKey(.kernelPath, "k\(Int.random(in: 0..<SliceSetup.kernelPaths, using: &generator))")] = totals.overall
        }
        return totals
    }

    private func window(
        of size: Int, evidence: Evidence, trueDrop: Double, using generator: inout SeededGenerator
    ) -> WindowSummary {
        evidence.window(of: size, trueDrop: trueDrop, candidateGainRate: settings.candidateGainRate, using: &generator)
    }
}

/// The true drops a simulation report is about, placed relative to the policy's bands.
public struct TrueDrops: Sendable, Equatable {
    /// Exactly `ship-below`: a ship here is a false ship, at most 1 - confidence of the runs.
    public var margin: Double
    /// Half of `ship-below`: a clearly shippable candidate; stay-fp16 here is a false reject.
    public var clearlyShippable: Double
    /// Where decision speed is measured: well below the ship band, the middle of the needs-qat
    /// band, and as far above stay-fp16-above as the band is wide.
    public var small: Double
    public var insideBand: Double
    public var large: Double

    public init(policy: Policy) {
        margin = policy.shipBelow
        clearlyShippable = Self.tidy(policy.shipBelow / 2)
        small = Self.tidy(policy.shipBelow / 5)
        insideBand = Self.tidy((policy.shipBelow + policy.stayFP16Above) / 2)
        large = Self.tidy(2 * policy.stayFP16Above - policy.shipBelow)
    }

    /// Rounds away binary noise (0.03 + 0.02 is 0.049999999999999996), so drops print and key as
    /// the percentages people wrote; 12 decimals are far below any meaningful rate.
    private static func tidy(_ fraction: Double) -> Double {
        (fraction * 1e12).rounded() / 1e12
    }

    /// Ascending.
    public var all: [Double] { [small, clearlyShippable, margin, insideBand, large] }
    /// The drops where time to a decision is reported.
    public var timed: [Double] { [small, insideBand, large] }
}

/// Why a simulation could not be set up.
public enum PolicySimulationError: Error, Equatable, CustomStringConvertible {
    case settingOutOfRange(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .settingOutOfRange(let name, let value, let expected):
            return "policy simulate: \(name) is \(value); it must be \(expected)"
        }
    }
}
