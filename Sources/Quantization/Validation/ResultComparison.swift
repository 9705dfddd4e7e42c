/// A reference and a candidate compared sample by sample on the same data: the paired evidence
/// the rollout policy decides on, and the classes where the candidate loses most.
public struct ResultComparison: Sendable, Equatable {
    public struct ClassBreakdown: Sendable, Equatable {
        public let label: Int
        public let samples: Int
        public let referenceAccuracy: Double
        public let candidateAccuracy: Double
        public var drop: Double { referenceAccuracy - candidateAccuracy }
    }

    public let samples: Int
    /// Samples whose top-1 class differs (classification).
    public let disagreements: Int
    public let labelled: Int
    public let referenceCorrect: Int
    public let candidateCorrect: Int
    public let referenceOnlyCorrect: Int
    public let candidateOnlyCorrect: Int
    /// Per class, the largest drop first (classification with labels).
    public let classes: [ClassBreakdown]
    /// R^2 of each model against the targets (regression with targets).
    public let referenceRSquared: Double?
    public let candidateRSquared: Double?

    public init(reference: ValidationResults, candidate: ValidationResults) throws(QuantizationError) {
        guard reference.outputs.count == candidate.outputs.count else {
            throw .invalidOption("the results cover different data: \(reference.outputs.count) samples in the reference, \(candidate.outputs.count) in the candidate")
        }
        guard reference.labels == candidate.labels else {
            throw .invalidOption("the results carry different labels; they must come from the same data file")
        }
        guard reference.task == candidate.task else {
            throw .invalidOption("the reference is \(reference.task.rawValue), the candidate \(candidate.task.rawValue)")
        }
        samples = reference.outputs.count
        let labels = reference.labels ?? []
        labelled = labels.count
        if reference.task == .classification {
            let referenceClasses = reference.predictedClasses, candidateClasses = candidate.predictedClasses
            disagreements = zip(referenceClasses, candidateClasses).filter(!=).count
            let referenceRight = zip(referenceClasses, labels).map { Double($0) == $1 }
            let candidateRight = zip(candidateClasses, labels).map { Double($0) == $1 }
            referenceCorrect = referenceRight.filter { $0 }.count
            candidateCorrect = candidateRight.filter { $0 }.count
            referenceOnlyCorrect = zip(referenceRight, candidateRight).filter { $0 && !$1 }.count
            candidateOnlyCorrect = zip(referenceRight, candidateRight).filter { !$0 && $1 }.count
            classes = Dictionary(grouping: labels.indices, by: { Int(labels[$0]) }).map { label, members in
                ClassBreakdown(
                    label: label, samples: members.count,
                    referenceAccuracy: Double(members.filter { referenceRight[$0] }.count) / Double(members.count),
                    candidateAccuracy: Double(members.filter { candidateRight[$0] }.count) / Double(members.count))
            }.sorted { ($0.drop, $1.label) > ($1.drop, $0.label) }
            referenceRSquared = nil
            candidateRSquared = nil
        } else {
            (disagreements, referenceCorrect, candidateCorrect, referenceOnlyCorrect, candidateOnlyCorrect) = (0, 0, 0, 0, 0)
            classes = []
            referenceRSquared = labels.isEmpty ? nil : Metrics.rSquared(reference.outputs.map { Double($0.first ?? 0) }, labels)
            candidateRSquared = labels.isEmpty ? nil : Metrics.rSquared(candidate.outputs.map { Double($0.first ?? 0) }, labels)
        }
    }

    public var referenceAccuracy: Double? { labelled > 0 ? Double(referenceCorrect) / Double(labelled) : nil }
    public var candidateAccuracy: Double? { labelled > 0 ? Double(candidateCorrect) / Double(labelled) : nil }
}
