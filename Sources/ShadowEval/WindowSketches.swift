/// A window's error and latency distributions: quantile sketches that merge exactly, so the
/// ledger answers "p99 candidate latency over the whole rollout" from windows of many agents.
public struct WindowSketches: Sendable, Equatable, Codable {
    public var klDivergences = LogHistogram()
    public var maxAbsDiffs = LogHistogram()
    public var referenceLatencyMicros = LogHistogram()
    public var candidateLatencyMicros = LogHistogram()

    enum CodingKeys: String, CodingKey {
        case klDivergences = "kl-divergence", maxAbsDiffs = "max-abs-diff"
        case referenceLatencyMicros = "reference-latency-us", candidateLatencyMicros = "candidate-latency-us"
    }

    public init(
        klDivergences: LogHistogram = LogHistogram(), maxAbsDiffs: LogHistogram = LogHistogram(),
        referenceLatencyMicros: LogHistogram = LogHistogram(), candidateLatencyMicros: LogHistogram = LogHistogram()
    ) {
        self.klDivergences = klDivergences
        self.maxAbsDiffs = maxAbsDiffs
        self.referenceLatencyMicros = referenceLatencyMicros
        self.candidateLatencyMicros = candidateLatencyMicros
    }

    public mutating func merge(_ other: WindowSketches) {
        klDivergences.merge(other.klDivergences)
        maxAbsDiffs.merge(other.maxAbsDiffs)
        referenceLatencyMicros.merge(other.referenceLatencyMicros)
        candidateLatencyMicros.merge(other.candidateLatencyMicros)
    }
}
