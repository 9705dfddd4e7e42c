/// Turns paired samples into a `WindowAggregate` until the owner seals the window.
public struct WindowAggregator: Sendable {
    private var aggregate = WindowAggregate()
    /// Embedding pairs of the open window, for the nearest-neighbour check at seal.
    private var embeddings: [(reference: [Float], candidate: [Float])] = []
    /// Decides which samples count as disagreements, and whether labels and class slices apply.
    public let taskKind: TaskKind

    public init(taskKind: TaskKind = .topOneClassification) {
        self.taskKind = taskKind
    }

    /// True when nothing, not even a drop, has been recorded since the last seal.
    public var isEmpty: Bool { aggregate.count == 0 && aggregate.shadowDrops == 0 }

    /// Paired samples recorded since the last seal.
    public var count: Int { aggregate.count }

    /// Records one paired sample (each side as `TaskKind.samples(of:shape:)` cut it). `label` is the
    /// ground-truth class when the application supplied one; it is ignored for task kinds without classes.
    public mutating func add(
        reference: [Float], candidate: [Float], label: Int?,
        referenceLatencyMicros: Int, candidateLatencyMicros: Int, at millis: Int64
    ) {
        var sample = WindowAggregate()
        sample.startedAtMillis = millis
        sample.endedAtMillis = millis
        sample.agreement.record(agree: !taskKind.isMateriallyDifferent(reference: reference, candidate: candidate))

        if taskKind.comparesOutputValues {
            let divergence = OutputComparison.klDivergence(reference: reference, candidate: candidate)
            sample.klDivergences.record(divergence)
            if divergence.isFinite {
                sample.klDivergenceSumUnits = Int64((divergence / WindowAggregate.klDivergenceUnit).rounded())
            }
            let difference = OutputComparison.maxAbsDifference(reference, candidate)
            sample.maxAbsDiffs.record(difference)
            if !difference.isNaN { sample.maxAbsDiff = difference }
        }

        sample.referenceLatencyMicrosSum = referenceLatencyMicros
        sample.candidateLatencyMicrosSum = candidateLatencyMicros
        sample.referenceLatencyMicros.record(Double(referenceLatencyMicros))
        sample.candidateLatencyMicros.record(Double(candidateLatencyMicros))

        if taskKind.hasClasses {
            sample.marginFlips = OutputComparison.isMarginFlip(reference: reference, candidate: candidate) ? 1 : 0
            let k = min(5, reference.count)
            sample.topFiveSharedClasses = Int((OutputComparison.topKOverlap(reference: reference, candidate: candidate, k: k) * Double(k)).rounded())
            let referenceClass = OutputComparison.top1(reference)
            sample.agreementByReferenceClass[referenceClass] = sample.agreement
            if let label {
                let candidateClass = OutputComparison.top1(candidate)
                sample.labels.record(referenceRight: referenceClass == label, candidateRight: candidateClass == label)
                sample.labelsByClass[label] = sample.labels
            }
        }
        if case .embedding = taskKind { embeddings.append((reference, candidate)) }
        // One sample is a window of one: recording is merging, so a window equals its samples merged.
        aggregate.merge(sample)
    }

    /// Records one request's latency ratio, candidate over reference, once per request however many
    /// rows its batch held: the rows share one measurement, and counting it per row would make a
    /// batch look like that many independent observations to the latency guard's bounds. A latency
    /// under the clock's microsecond counts as 1 us, so the ratio is always defined.
    public mutating func addRequestLatencies(referenceMicros: Int, candidateMicros: Int) {
        aggregate.latencyRatios.record(Self.latencyRatio(referenceMicros: Double(referenceMicros), candidateMicros: Double(candidateMicros)))
    }

    static func latencyRatio(referenceMicros: Double, candidateMicros: Double) -> Double {
        max(candidateMicros, 1) / max(referenceMicros, 1)
    }

    /// Records the reference's output on one input next to its output on another kernel path.
    public mutating func addNoiseFloor(reference: [Float], elsewhere: [Float]) {
        aggregate.noiseFloor.record(agree: !taskKind.isMateriallyDifferent(reference: reference, candidate: elsewhere))
    }

    /// Records a sampled request the shadow runner had to drop.
    public mutating func recordDrop() {
        aggregate.shadowDrops += 1
    }

    /// Returns the window recorded so far, mergeable, and starts a new one.
    public mutating func seal() -> WindowAggregate {
        defer {
            aggregate = WindowAggregate()
            embeddings = []
        }
        aggregate.neighbours = Self.neighbourAgreement(embeddings)
        return aggregate
    }

    /// For each embedding, whether its nearest other embedding of the window (by cosine) is the same
    /// one under both models: quantization that reorders neighbours breaks retrieval even when every
    /// cosine with the reference stays high.
    static func neighbourAgreement(_ pairs: [(reference: [Float], candidate: [Float])]) -> AgreementCounts {
        guard pairs.count >= 3 else { return AgreementCounts() }
        func nearest(_ index: Int, _ vectors: [[Float]]) -> Int {
            var best = -1, bestCosine = -Double.infinity
            for other in vectors.indices where other != index {
                let cosine = OutputComparison.cosineSimilarity(vectors[index], vectors[other])
                if cosine > bestCosine { (best, bestCosine) = (other, cosine) }
            }
            return best
        }
        let references = pairs.map(\.reference), candidates = pairs.map(\.candidate)
        var counts = AgreementCounts()
        for index in pairs.indices { counts.record(agree: nearest(index, references) == nearest(index, candidates)) }
        return counts
    }
}
