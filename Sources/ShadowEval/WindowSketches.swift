/// A window's error and latency distributions: quantile sketches that merge exactly, so the
/// ledger answers "p99 candidate latency over the whole rollout" from windows of many agents.
public struct WindowSketches: Sendable, Equatable, Codable {
    public var klDivergences = LogHistogram()
    public var maxAbsDiffs = LogHistogram()
    public var referenceLatencyMicros = LogHistogram()
    public var candidateLatencyMicros = LogHistogram()
    /// Candidate latency over reference latency, one per request (the rows of a batch share one
    /// measurement): what the sequential latency guard judges.
    public var latencyRatios = LogHistogram()

    enum CodingKeys: String, CodingKey {
        case klDivergences = "kl-divergence", maxAbsDiffs = "max-abs-diff"
        case referenceLatencyMicros = "reference-latency-us", candidateLatencyMicros = "candidate-latency-us"
        case latencyRatios = "latency-ratio"
    }

    public init(
        klDivergences: LogHistogram = LogHistogram(), maxAbsDiffs: LogHistogram = LogHistogram(),
        referenceLatencyMicros: LogHistogram = LogHistogram(), candidateLatencyMicros: LogHistogram = LogHistogram(),
        latencyRatios: LogHistogram = LogHistogram()
    ) {
        self.klDivergences = klDivergences
        self.maxAbsDiffs = maxAbsDiffs
        self.referenceLatencyMicros = referenceLatencyMicros
        self.candidateLatencyMicros = candidateLatencyMicros
        self.latencyRatios = latencyRatios
    }

    /// Sketches from agents before 0.4.0, and ledger rows they wrote, have no ratios: empty, not an error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            klDivergences: try container.decode(LogHistogram.self, forKey: .klDivergences),
            maxAbsDiffs: try container.decode(LogHistogram.self, forKey: .maxAbsDiffs),
            referenceLatencyMicros: try container.decode(LogHistogram.self, forKey: .referenceLatencyMicros),
            candidateLatencyMicros: try container.decode(LogHistogram.self, forKey: .candidateLatencyMicros),
            latencyRatios: try container.decodeIfPresent(LogHistogram.self, forKey: .latencyRatios) ?? LogHistogram())
    }

    public mutating func merge(_ other: WindowSketches) {
        klDivergences.merge(other.klDivergences)
        maxAbsDiffs.merge(other.maxAbsDiffs)
        referenceLatencyMicros.merge(other.referenceLatencyMicros)
        candidateLatencyMicros.merge(other.candidateLatencyMicros)
        latencyRatios.merge(other.latencyRatios)
    }
}
