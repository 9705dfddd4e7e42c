/// Everything an agent learns from a window of paired samples, in a form that merges exactly:
/// integer counts and sums, a maximum, and fixed-bucket histograms. Windows from many agents and many
/// hours merge, in any order and grouping, into the same value as one window holding every sample.
///
/// `summary` projects it onto the `WindowSummary` the wire and ledger carry today.
public struct WindowAggregate: Sendable, Equatable, Codable {
    /// KL divergences are summed in units of 1e-9 nats: integers add associatively, doubles do not.
    /// A per-sample KL is at most about 28 nats (the candidate's probability floor is 1e-12), so an
    /// Int64 holds the sum of more than 3e8 samples.
    public static let klDivergenceUnit = 1e-9

    /// Top-1 agreement over all paired samples.
    public var agreement = AgreementCounts()
    /// Sum over samples of KL(reference || candidate), in `klDivergenceUnit`s; NaN divergences are left out.
    public var klDivergenceSumUnits: Int64 = 0
    /// Largest element-wise output difference; NaN differences are left out (`maxAbsDiffs` counts them).
    public var maxAbsDiff = 0.0
    /// Labelled samples by which model was right.
    public var labels = PairedOutcomes()
    /// Per-class slices: labelled outcomes by the ground-truth class, agreement by the reference's top-1
    /// class (unlabelled traffic has no truer class to slice by).
    public var labelsByClass: [Int: PairedOutcomes] = [:]
    public var agreementByReferenceClass: [Int: AgreementCounts] = [:]
    /// Exact latency sums (for means) beside the sketches (for quantiles).
    public var referenceLatencyMicrosSum = 0
    public var candidateLatencyMicrosSum = 0
    public var referenceLatencyMicros = LogHistogram()
    public var candidateLatencyMicros = LogHistogram()
    /// Per-request ratios, candidate latency over reference latency (`WindowSketches.latencyRatios`).
    public var latencyRatios = LogHistogram()
    /// Distributions of the per-sample errors.
    public var klDivergences = LogHistogram()
    public var maxAbsDiffs = LogHistogram()
    /// Sampled requests the shadow runner dropped because its queue was full.
    public var shadowDrops = 0
    /// The reference against itself on another kernel path, on a sample of requests (noise floor).
    public var noiseFloor = AgreementCounts()
    /// Classification: samples whose reference margin changed sign (the runner-up overtook the top
    /// class), and the classes the two top-5 lists share, summed (divided by 5 n: the mean overlap).
    public var marginFlips = 0
    public var topFiveSharedClasses = 0
    /// Embeddings: samples whose nearest neighbour in their window (by cosine) is the same under both
    /// models; judged when the window is sealed, since it needs the window's other samples.
    public var neighbours = AgreementCounts()
    /// Unix milliseconds of the first and last paired sample (0 when there are none).
    public var startedAtMillis: Int64 = 0
    public var endedAtMillis: Int64 = 0

    public init() {}

    /// Paired samples.
    public var count: Int { agreement.samples }

    /// Sum of the per-sample KL divergences in nats.
    public var klDivergenceSum: Double { Double(klDivergenceSumUnits) * Self.klDivergenceUnit }

    /// Adds `other`'s samples to these. Associative and commutative, with `WindowAggregate()` as identity.
    public mutating func merge(_ other: WindowAggregate) {
        if other.count > 0 {
            startedAtMillis = count == 0 ? other.startedAtMillis : min(startedAtMillis, other.startedAtMillis)
            endedAtMillis = count == 0 ? other.endedAtMillis : max(endedAtMillis, other.endedAtMillis)
        }
        agreement.merge(other.agreement)
        klDivergenceSumUnits += other.klDivergenceSumUnits
        maxAbsDiff = max(maxAbsDiff, other.maxAbsDiff)
        labels.merge(other.labels)
        labelsByClass.merge(other.labelsByClass) { mine, theirs in
            var merged = mine
            merged.merge(theirs)
            return merged
        }
        agreementByReferenceClass.merge(other.agreementByReferenceClass) { mine, theirs in
            var merged = mine
            merged.merge(theirs)
            return merged
        }
        referenceLatencyMicrosSum += other.referenceLatencyMicrosSum
        candidateLatencyMicrosSum += other.candidateLatencyMicrosSum
        referenceLatencyMicros.merge(other.referenceLatencyMicros)
        candidateLatencyMicros.merge(other.candidateLatencyMicros)
        latencyRatios.merge(other.latencyRatios)
        klDivergences.merge(other.klDivergences)
        maxAbsDiffs.merge(other.maxAbsDiffs)
        shadowDrops += other.shadowDrops
        noiseFloor.merge(other.noiseFloor)
        marginFlips += other.marginFlips
        topFiveSharedClasses += other.topFiveSharedClasses
        neighbours.merge(other.neighbours)
    }

    /// The distributions, as the wire and the ledger carry them.
    public var sketches: WindowSketches {
        WindowSketches(
            klDivergences: klDivergences, maxAbsDiffs: maxAbsDiffs,
            referenceLatencyMicros: referenceLatencyMicros, candidateLatencyMicros: candidateLatencyMicros,
            latencyRatios: latencyRatios)
    }

    /// The aggregate merged from `aggregates`; any order gives the same value.
    public static func merged(_ aggregates: some Sequence<WindowAggregate>) -> WindowAggregate {
        aggregates.reduce(into: WindowAggregate()) { $0.merge($1) }
    }

    /// The fields the wire and the ledger carry today.
    public var summary: WindowSummary {
        WindowSummary(
            count: count, top1Agreements: agreement.agreements, klDivergenceSum: klDivergenceSum,
            maxAbsDiff: maxAbsDiff, labelled: labels.total, referenceCorrect: labels.referenceRight,
            candidateCorrect: labels.candidateRight, referenceOnlyCorrect: labels.onlyReferenceRight,
            candidateOnlyCorrect: labels.onlyCandidateRight, referenceLatencyMicrosSum: referenceLatencyMicrosSum,
            candidateLatencyMicrosSum: candidateLatencyMicrosSum, shadowDrops: shadowDrops,
            startedAtMillis: startedAtMillis, endedAtMillis: endedAtMillis)
    }
}
