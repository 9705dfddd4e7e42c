/// What an agent accumulates over one window of paired samples; sealed and sent to the coordinator.
///
/// Sums rather than means, so that windows add up exactly into the evidence a decision rests on.
public struct WindowSummary: Sendable, Equatable, Codable {
    /// Paired samples (reference and candidate both ran).
    public var count: Int
    /// Samples whose reference and candidate top-1 classes agree.
    public var top1Agreements: Int
    /// Sum over samples of KL(reference || candidate) in nats.
    public var klDivergenceSum: Double
    /// Largest element-wise output difference seen in the window.
    public var maxAbsDiff: Double
    /// Samples with a ground-truth label, and how each model fared on them.
    public var labelled: Int
    public var referenceCorrect: Int
    public var candidateCorrect: Int
    /// Labelled samples only the reference got right: the candidate's losses.
    public var referenceOnlyCorrect: Int
    /// Labelled samples only the candidate got right: the candidate's gains.
    public var candidateOnlyCorrect: Int
    public var referenceLatencyMicrosSum: Int
    public var candidateLatencyMicrosSum: Int
    /// Sampled requests the shadow runner dropped because its queue was full.
    public var shadowDrops: Int
    /// Unix milliseconds of the first and last paired sample (0 when the window has none).
    public var startedAtMillis: Int64
    public var endedAtMillis: Int64

    public init(
        count: Int = 0, top1Agreements: Int = 0, klDivergenceSum: Double = 0, maxAbsDiff: Double = 0,
        labelled: Int = 0, referenceCorrect: Int = 0, candidateCorrect: Int = 0,
        referenceOnlyCorrect: Int = 0, candidateOnlyCorrect: Int = 0,
        referenceLatencyMicrosSum: Int = 0, candidateLatencyMicrosSum: Int = 0, shadowDrops: Int = 0,
        startedAtMillis: Int64 = 0, endedAtMillis: Int64 = 0
    ) {
        self.count = count
        self.top1Agreements = top1Agreements
        self.klDivergenceSum = klDivergenceSum
        self.maxAbsDiff = maxAbsDiff
        self.labelled = labelled
        self.referenceCorrect = referenceCorrect
        self.candidateCorrect = candidateCorrect
        self.referenceOnlyCorrect = referenceOnlyCorrect
        self.candidateOnlyCorrect = candidateOnlyCorrect
        self.referenceLatencyMicrosSum = referenceLatencyMicrosSum
        self.candidateLatencyMicrosSum = candidateLatencyMicrosSum
        self.shadowDrops = shadowDrops
        self.startedAtMillis = startedAtMillis
        self.endedAtMillis = endedAtMillis
    }
}
