/// The cost side of many windows in mergeable form: latency sums (means need the sample count,
/// which the evidence totals beside them hold) and the most memory either model kept resident.
public struct CostTotals: Sendable, Equatable {
    public var referenceLatencyMicrosSum: Int
    public var candidateLatencyMicrosSum: Int
    /// nil until a window measured it.
    public var referenceMemoryBytes: Int?
    public var candidateMemoryBytes: Int?

    public init(
        referenceLatencyMicrosSum: Int = 0, candidateLatencyMicrosSum: Int = 0,
        referenceMemoryBytes: Int? = nil, candidateMemoryBytes: Int? = nil
    ) {
        self.referenceLatencyMicrosSum = referenceLatencyMicrosSum
        self.candidateLatencyMicrosSum = candidateLatencyMicrosSum
        self.referenceMemoryBytes = referenceMemoryBytes
        self.candidateMemoryBytes = candidateMemoryBytes
    }

    public mutating func merge(_ other: CostTotals) {
        referenceLatencyMicrosSum += other.referenceLatencyMicrosSum
        candidateLatencyMicrosSum += other.candidateLatencyMicrosSum
        referenceMemoryBytes = Self.larger(referenceMemoryBytes, other.referenceMemoryBytes)
        candidateMemoryBytes = Self.larger(candidateMemoryBytes, other.candidateMemoryBytes)
    }

    /// What a guard judges: mean latency per paired sample (nil without samples) and the memory maxima.
    public func evidence(samples: Int) -> CostEvidence {
        CostEvidence(
            referenceMeanLatencyMicros: samples == 0 ? nil : Double(referenceLatencyMicrosSum) / Double(samples),
            candidateMeanLatencyMicros: samples == 0 ? nil : Double(candidateLatencyMicrosSum) / Double(samples),
            referenceMemoryBytes: referenceMemoryBytes, candidateMemoryBytes: candidateMemoryBytes)
    }

    private static func larger(_ first: Int?, _ second: Int?) -> Int? {
        guard let first, let second else { return first ?? second }
        return max(first, second)
    }
}
