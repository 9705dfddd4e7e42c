/// One breakdown of a rollout's evidence: "class 7", "device-class pi5", "kernel-path avx2".
public struct SliceKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var dimension: SliceDimension
    public var value: String

    public init(_ dimension: SliceDimension, _ value: String) {
        self.dimension = dimension
        self.value = value
    }

    public var description: String { "\(dimension.rawValue) \(value)" }
}

/// The candidate's and the reference's cost, measured beside the accuracy evidence.
public struct CostEvidence: Sendable, Equatable {
    public var referenceMeanLatencyMicros: Double?
    public var candidateMeanLatencyMicros: Double?
    /// Per-request latency ratios, candidate over reference (nil when no window carried them).
    public var latencyRatios: LogHistogram?
    public var referenceMemoryBytes: Int?
    public var candidateMemoryBytes: Int?

    public init(
        referenceMeanLatencyMicros: Double? = nil, candidateMeanLatencyMicros: Double? = nil, latencyRatios: LogHistogram? = nil,
        referenceMemoryBytes: Int? = nil, candidateMemoryBytes: Int? = nil
    ) {
        self.referenceMeanLatencyMicros = referenceMeanLatencyMicros
        self.candidateMeanLatencyMicros = candidateMeanLatencyMicros
        self.latencyRatios = latencyRatios
        self.referenceMemoryBytes = referenceMemoryBytes
        self.candidateMemoryBytes = candidateMemoryBytes
    }
}

/// Everything a rollout decision rests on: the whole, its slices, and the cost.
public struct RolloutEvidence: Sendable, Equatable {
    public var overall: EvidenceTotals
    /// Totals per slice; only the dimensions the policy names are judged.
    public var slices: [SliceKey: EvidenceTotals]
    public var cost: CostEvidence

    public init(overall: EvidenceTotals, slices: [SliceKey: EvidenceTotals] = [:], cost: CostEvidence = CostEvidence()) {
        self.overall = overall
        self.slices = slices
        self.cost = cost
    }
}

/// A decision over the whole rollout with the decisions behind it.
public struct RolloutDecision: Sendable, Equatable {
    /// The rollout's outcome, with the evidence of the decision that set it and the reason in words.
    public var decision: Decision
    public var overall: Decision
    /// Judged slices (those with enough samples), each at its share of alpha.
    public var slices: [SliceKey: Decision]
    /// Guards the candidate broke, in words; any broken guard keeps FP16.
    public var brokenGuards: [String]
    /// Guards not yet cleared, in words; a ship waits for them.
    public var pendingGuards: [String] = []
}

extension PolicyEvaluator {
    /// Decides on the whole rollout and on every slice of the policy's dimensions that has at
    /// least `slices.minimumSamples` samples (the slice's own minimum), then applies the guards
    /// (once there are `minimumSamples` paired samples): a broken guard keeps FP16, and a ship
    /// waits for every guard to be cleared (the sequential latency guard may not be yet).
    ///
    /// Multiplicity: with k judged slices, the whole and each slice are bounded at alpha / (k + 1),
    /// so by the union bound all k + 1 confidence sequences hold together with probability 1 - alpha.
    /// The rollout takes the most cautious outcome among them (stay-fp16, then needs-qat, then
    /// collecting, then ship): it ships only when the whole and every judged slice ship, and fails
    /// when any of them fails.
    public static func decide(_ evidence: RolloutEvidence, policy: Policy) -> RolloutDecision {
        let judged = judgedSlices(evidence, policy: policy)
        let (whole, perSlice) = sharedPolicies(policy, judgedSlices: judged.count)
        let overall = decide(evidence.overall, policy: whole)
        let slices = Dictionary(uniqueKeysWithValues: judged.map { key, totals in (key, decide(totals, policy: perSlice)) })

        // The record keeps the whole's evidence; a more cautious slice sets the outcome and says why,
        // once the whole has `minimum-samples`: no decision comes before them, whatever a slice shows.
        var deciding = overall
        if evidence.overall.samples >= policy.minimumSamples {
            for key in slices.keys.sorted(by: { $0.description < $1.description }) {
                let slice = slices[key]!
                if caution(slice.outcome) > caution(deciding.outcome) {
                    deciding.outcome = slice.outcome
                    deciding.reason = "slice \(key): " + slice.reason
                }
            }
        }
        // Cost, like accuracy, is judged only on enough samples: a cold first window is no verdict.
        let verdicts = evidence.overall.samples >= policy.minimumSamples ? guardVerdicts(evidence.cost, policy: policy) : []
        let broken = verdicts.compactMap { if case .broken(let words) = $0 { words } else { nil } }
        let pending = verdicts.compactMap { if case .undecided(let words) = $0 { words } else { nil } }
        if !broken.isEmpty {
            deciding.outcome = .stayFP16
            deciding.reason = "guard broken: " + broken.joined(separator: "; ")
        } else if deciding.outcome == .ship, !pending.isEmpty {
            deciding.outcome = .collecting
            deciding.reason = "accuracy ships, guard not yet cleared: " + pending.joined(separator: "; ")
        }
        return RolloutDecision(decision: deciding, overall: overall, slices: slices, brokenGuards: broken, pendingGuards: pending)
    }

    /// The outcome `decide` would return before guards, without the audit records (simulations).
    static func outcome(_ evidence: RolloutEvidence, policy: Policy) -> Outcome {
        guard evidence.overall.samples >= policy.minimumSamples else { return .collecting }
        let judged = judgedSlices(evidence, policy: policy)
        let (whole, perSlice) = sharedPolicies(policy, judgedSlices: judged.count)
        var deciding = outcome(evidence.overall, policy: whole)
        for (_, totals) in judged where deciding != .stayFP16 {
            let slice = outcome(totals, policy: perSlice)
            if caution(slice) > caution(deciding) { deciding = slice }
        }
        return deciding
    }

    /// The policies the whole and each judged slice are held to: confidence shared among them all,
    /// and a slice's own minimum, `slices.minimum-samples` (labels count from there too).
    private static func sharedPolicies(_ policy: Policy, judgedSlices: Int) -> (whole: Policy, slice: Policy) {
        var whole = policy
        whole.confidence = 1 - (1 - policy.confidence) / Double(judgedSlices + 1)
        var slice = whole
        if let minimum = policy.slices?.minimumSamples {
            slice.minimumSamples = minimum
            slice.minimumLabelled = min(policy.minimumLabelled, minimum)
        }
        return (whole, slice)
    }

    /// Slices of the policy's dimensions with enough samples, except a slice that holds every sample
    /// (the only value of its dimension, e.g. one kernel path across the fleet): it is the whole
    /// again, and judging it twice would only spend confidence.
    private static func judgedSlices(_ evidence: RolloutEvidence, policy: Policy) -> [(SliceKey, EvidenceTotals)] {
        guard let slicePolicy = policy.slices else { return [] }
        return evidence.slices.filter { key, totals in
            slicePolicy.dimensions.contains(key.dimension) && totals.samples >= slicePolicy.minimumSamples
                && totals.samples < evidence.overall.samples
        }.sorted { $0.key.description < $1.key.description }
    }

    private static func caution(_ outcome: Outcome) -> Int {
        switch outcome {
        case .ship: return 0
        case .collecting: return 1
        case .needsQAT: return 2
        case .stayFP16: return 3
        }
    }

    /// The verdict of every guard the policy sets and the evidence measured. Memory is the most
    /// either model kept resident, a measured maximum rather than a sample, so it is compared once.
    private static func guardVerdicts(_ cost: CostEvidence, policy: Policy) -> [LatencyGuard.Verdict] {
        guard let guards = policy.guards else { return [] }
        var verdicts: [LatencyGuard.Verdict] = []
        if let limit = guards.maximumLatencyRatio {
            if let verdict = LatencyGuard(policy: policy, limit: limit, method: policy.bounds).judge(cost) { verdicts.append(verdict) }
        }
        if let limit = guards.maximumMemoryRatio,
            let reference = cost.referenceMemoryBytes, let candidate = cost.candidateMemoryBytes,
            reference > 0, Double(candidate) / Double(reference) > limit
        {
            let ratio = LatencyGuard.times(Double(candidate) / Double(reference))
            verdicts.append(.broken("candidate memory is \(ratio) the reference's, above max-memory-ratio \(limit)"))
        }
        return verdicts
    }
}

extension WindowAggregate {
    /// The evidence of the whole aggregate.
    public var evidence: EvidenceTotals { EvidenceTotals(agreement: agreement, labels: labels) }

    /// The evidence per class: "class 3" holds the labelled samples whose true class is 3 and the
    /// paired samples whose reference answered 3 (the only class unlabelled traffic has), so the
    /// labelled drop of a class is exact and its disagreement rate is the reference's view of it.
    public var classSlices: [SliceKey: EvidenceTotals] {
        let classes = Set(labelsByClass.keys).union(agreementByReferenceClass.keys)
        return Dictionary(uniqueKeysWithValues: classes.map { value in
            (SliceKey(.class, String(value)),
             EvidenceTotals(
                agreement: agreementByReferenceClass[value] ?? AgreementCounts(),
                labels: labelsByClass[value] ?? PairedOutcomes()))
        })
    }
}

extension EvidenceTotals {
    /// Totals of one slice from its agreement and labelled counts.
    public init(agreement: AgreementCounts, labels: PairedOutcomes = PairedOutcomes()) {
        self.init(
            samples: agreement.samples, disagreements: agreement.disagreements, labelled: labels.total,
            referenceCorrect: labels.referenceRight, candidateCorrect: labels.candidateRight,
            referenceOnlyCorrect: labels.onlyReferenceRight, candidateOnlyCorrect: labels.onlyCandidateRight)
    }
}
