/// Everything a rollout stage's windows add up to: the evidence of the whole and of each slice, the
/// cost, and the measures with their quantile sketches. Kept as windows arrive, so a decision reads
/// these totals instead of every window again; every part merges exactly, in any order and grouping,
/// so the totals of a batch, a stage or a whole rollout are merges of the totals of their windows.
public struct RunningTotals: Sendable, Equatable {
    public var overall: EvidenceTotals
    public var slices: [SliceKey: EvidenceTotals]
    public var cost: CostTotals
    public var measures: WindowMeasures

    public init(
        overall: EvidenceTotals = EvidenceTotals(), slices: [SliceKey: EvidenceTotals] = [:], cost: CostTotals = CostTotals(),
        measures: WindowMeasures = WindowMeasures()
    ) {
        self.overall = overall
        self.slices = slices
        self.cost = cost
        self.measures = measures
    }

    public mutating func merge(_ other: RunningTotals) {
        overall.merge(other.overall)
        slices.merge(other.slices) { mine, theirs in
            var merged = mine
            merged.merge(theirs)
            return merged
        }
        cost.merge(other.cost)
        measures.merge(other.measures)
    }

    /// Adds the next window after every window already in: the evidence of the whole and of each of
    /// the window's slices is appended (`EvidenceTotals.append`, which records the betting processes),
    /// the cost and measures merge.
    public mutating func append(_ window: RunningTotals) {
        overall.append(window.overall)
        for (key, slice) in window.slices {
            slices[key, default: EvidenceTotals()].append(slice)
        }
        cost.merge(window.cost)
        measures.merge(window.measures)
    }

    /// What the policy judges.
    public var evidence: RolloutEvidence {
        var evidence = RolloutEvidence(overall: overall, slices: slices, cost: cost.evidence(samples: overall.samples))
        evidence.cost.latencyRatios = measures.sketches?.latencyRatios
        return evidence
    }
}
