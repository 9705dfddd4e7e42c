/// Totals over many windows of one rollout: the evidence a decision rests on.
public struct EvidenceTotals: Sendable, Equatable {
    public var windows: Int
    /// Paired samples, and how many of them had different top-1 classes.
    public var samples: Int
    public var disagreements: Int
    /// Labelled samples and the per-model and paired correctness counts over them.
    public var labelled: Int
    public var referenceCorrect: Int
    public var candidateCorrect: Int
    public var referenceOnlyCorrect: Int
    public var candidateOnlyCorrect: Int
    /// The noise floor: samples the agents ran the reference twice, on two kernel paths, and how
    /// many of those differed materially from themselves.
    public var floorSamples: Int
    public var floorDisagreements: Int

    public init(
        windows: Int = 0, samples: Int = 0, disagreements: Int = 0, labelled: Int = 0,
        referenceCorrect: Int = 0, candidateCorrect: Int = 0,
        referenceOnlyCorrect: Int = 0, candidateOnlyCorrect: Int = 0, floorSamples: Int = 0, floorDisagreements: Int = 0
    ) {
        self.windows = windows
        self.samples = samples
        self.disagreements = disagreements
        self.labelled = labelled
        self.referenceCorrect = referenceCorrect
        self.candidateCorrect = candidateCorrect
        self.referenceOnlyCorrect = referenceOnlyCorrect
        self.candidateOnlyCorrect = candidateOnlyCorrect
        self.floorSamples = floorSamples
        self.floorDisagreements = floorDisagreements
    }

    /// Adds another set of totals (more windows of the same rollout, stage or slice): every field is
    /// a count, so totals merge exactly, in any order and any grouping.
    public mutating func merge(_ other: EvidenceTotals) {
        windows += other.windows
        samples += other.samples
        disagreements += other.disagreements
        labelled += other.labelled
        referenceCorrect += other.referenceCorrect
        candidateCorrect += other.candidateCorrect
        referenceOnlyCorrect += other.referenceOnlyCorrect
        candidateOnlyCorrect += other.candidateOnlyCorrect
        floorSamples += other.floorSamples
        floorDisagreements += other.floorDisagreements
    }

    /// Adds one sealed window to the totals.
    public mutating func add(_ window: WindowSummary) {
        windows += 1
        samples += window.count
        disagreements += window.count - window.top1Agreements
        labelled += window.labelled
        referenceCorrect += window.referenceCorrect
        candidateCorrect += window.candidateCorrect
        referenceOnlyCorrect += window.referenceOnlyCorrect
        candidateOnlyCorrect += window.candidateOnlyCorrect
    }
}
