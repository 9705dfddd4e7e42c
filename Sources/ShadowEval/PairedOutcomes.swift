/// Labelled paired samples by which model got them right: McNemar's table. The accuracy drop is
/// (onlyReferenceRight - onlyCandidateRight) / total; the concordant cells only add to n.
public struct PairedOutcomes: Sendable, Equatable, Codable {
    public var bothRight: Int
    public var onlyReferenceRight: Int
    public var onlyCandidateRight: Int
    public var bothWrong: Int

    public init(bothRight: Int = 0, onlyReferenceRight: Int = 0, onlyCandidateRight: Int = 0, bothWrong: Int = 0) {
        self.bothRight = bothRight
        self.onlyReferenceRight = onlyReferenceRight
        self.onlyCandidateRight = onlyCandidateRight
        self.bothWrong = bothWrong
    }

    public var total: Int { bothRight + onlyReferenceRight + onlyCandidateRight + bothWrong }
    public var referenceRight: Int { bothRight + onlyReferenceRight }
    public var candidateRight: Int { bothRight + onlyCandidateRight }

    public mutating func record(referenceRight: Bool, candidateRight: Bool) {
        switch (referenceRight, candidateRight) {
        case (true, true): bothRight += 1
        case (true, false): onlyReferenceRight += 1
        case (false, true): onlyCandidateRight += 1
        case (false, false): bothWrong += 1
        }
    }

    public mutating func merge(_ other: PairedOutcomes) {
        bothRight += other.bothRight
        onlyReferenceRight += other.onlyReferenceRight
        onlyCandidateRight += other.onlyCandidateRight
        bothWrong += other.bothWrong
    }
}

/// Paired samples and how many of them the two models answered alike; the unlabelled evidence.
public struct AgreementCounts: Sendable, Equatable, Codable {
    public var samples: Int
    public var agreements: Int

    public init(samples: Int = 0, agreements: Int = 0) {
        self.samples = samples
        self.agreements = agreements
    }

    public var disagreements: Int { samples - agreements }

    public mutating func record(agree: Bool) {
        samples += 1
        if agree { agreements += 1 }
    }

    public mutating func merge(_ other: AgreementCounts) {
        samples += other.samples
        agreements += other.agreements
    }
}
