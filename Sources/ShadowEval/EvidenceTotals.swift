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
    /// The betting processes over the same counts, window by window in ingest order (`append`):
    /// the labelled paired difference, the disagreement rate and the noise floor's rate.
    public var bets: Bets

    public init(
        windows: Int = 0, samples: Int = 0, disagreements: Int = 0, labelled: Int = 0,
        referenceCorrect: Int = 0, candidateCorrect: Int = 0,
        referenceOnlyCorrect: Int = 0, candidateOnlyCorrect: Int = 0, floorSamples: Int = 0, floorDisagreements: Int = 0,
        bets: Bets = Bets()
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
        self.bets = bets
    }

    /// Adds another set of totals (more windows of the same rollout, stage or slice): every field is
    /// a count, so totals merge exactly, in any order and any grouping.
    public mutating func merge(_ other: EvidenceTotals) {
        mergeCounts(other)
        bets.merge(other.bets)
    }

    /// Adds the next window (its counts; its own `bets` are ignored) after every window already in:
    /// the counts merge, and each betting process records the window at the bet these totals choose.
    public mutating func append(_ window: EvidenceTotals) {
        bets.pairedDifference.record(window: [
            window.candidateOnlyCorrect, window.labelled - window.referenceOnlyCorrect - window.candidateOnlyCorrect,
            window.referenceOnlyCorrect,
        ])
        bets.disagreement.record(window: [window.samples - window.disagreements, window.disagreements])
        bets.floor.record(window: [window.floorSamples - window.floorDisagreements, window.floorDisagreements])
        mergeCounts(window)
    }

    private mutating func mergeCounts(_ other: EvidenceTotals) {
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

    /// Appends one sealed window.
    public mutating func append(_ window: WindowSummary) {
        append(EvidenceTotals(window: window))
    }

    /// One sealed window's counts, with the noise floor the agent measured alongside it.
    public init(window: WindowSummary, floor: AgreementCounts = AgreementCounts()) {
        self.init(
            windows: 1, samples: window.count, disagreements: window.count - window.top1Agreements,
            labelled: window.labelled, referenceCorrect: window.referenceCorrect, candidateCorrect: window.candidateCorrect,
            referenceOnlyCorrect: window.referenceOnlyCorrect, candidateOnlyCorrect: window.candidateOnlyCorrect,
            floorSamples: floor.samples, floorDisagreements: floor.disagreements)
    }

    /// The betting processes of one set of totals.
    public struct Bets: Sendable, Hashable, CustomStringConvertible {
        public var pairedDifference: BettingTally
        public var disagreement: BettingTally
        public var floor: BettingTally

        public init(
            pairedDifference: BettingTally = BettingTally(.pairedDifference), disagreement: BettingTally = BettingTally(.rate),
            floor: BettingTally = BettingTally(.rate)
        ) {
            self.pairedDifference = pairedDifference
            self.disagreement = disagreement
            self.floor = floor
        }

        public mutating func merge(_ other: Bets) {
            pairedDifference.merge(other.pairedDifference)
            disagreement.merge(other.disagreement)
            floor.merge(other.floor)
        }

        public var description: String {
            "paired difference [\(pairedDifference)], disagreement [\(disagreement)], floor [\(floor)]"
        }

        public var isEmpty: Bool {
            pairedDifference.countsByStep.isEmpty && disagreement.countsByStep.isEmpty && floor.countsByStep.isEmpty
        }
    }
}
