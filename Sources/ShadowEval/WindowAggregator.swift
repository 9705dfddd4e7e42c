/// Accumulates paired samples into a `WindowSummary` until the owner seals the window.
public struct WindowAggregator: Sendable {
    private var summary = WindowSummary()

    public init() {}

    /// True when nothing, not even a drop, has been recorded since the last seal.
    public var isEmpty: Bool { summary.count == 0 && summary.shadowDrops == 0 }

    /// Paired samples recorded since the last seal.
    public var count: Int { summary.count }

    /// Records one paired sample. `label` is the ground-truth class when the application supplied one.
    public mutating func add(
        reference: [Float], candidate: [Float], label: Int?,
        referenceLatencyMicros: Int, candidateLatencyMicros: Int, at millis: Int64
    ) {
        let referenceClass = OutputComparison.top1(reference)
        let candidateClass = OutputComparison.top1(candidate)
        if summary.count == 0 {
            summary.startedAtMillis = millis
            summary.endedAtMillis = millis
        } else {
            summary.startedAtMillis = min(summary.startedAtMillis, millis)
            summary.endedAtMillis = max(summary.endedAtMillis, millis)
        }
        summary.count += 1
        if referenceClass == candidateClass { summary.top1Agreements += 1 }
        summary.klDivergenceSum += OutputComparison.klDivergence(reference: reference, candidate: candidate)
        summary.maxAbsDiff = max(summary.maxAbsDiff, OutputComparison.maxAbsDifference(reference, candidate))
        summary.referenceLatencyMicrosSum += referenceLatencyMicros
        summary.candidateLatencyMicrosSum += candidateLatencyMicros

        guard let label else { return }
        let referenceRight = referenceClass == label
        let candidateRight = candidateClass == label
        summary.labelled += 1
        if referenceRight { summary.referenceCorrect += 1 }
        if candidateRight { summary.candidateCorrect += 1 }
        if referenceRight && !candidateRight { summary.referenceOnlyCorrect += 1 }
        if candidateRight && !referenceRight { summary.candidateOnlyCorrect += 1 }
    }

    /// Records a sampled request the shadow runner had to drop.
    public mutating func recordDrop() {
        summary.shadowDrops += 1
    }

    /// Returns the window recorded so far and starts a new, empty one.
    public mutating func seal() -> WindowSummary {
        defer { summary = WindowSummary() }
        return summary
    }
}
