/// What a model's outputs mean, and so when the candidate's answer differs materially from the
/// reference's. It comes with the model's registration; the unlabelled evidence (the disagreement
/// rate the policy bounds) counts the materially different samples.
public enum TaskKind: Sendable, Equatable, Codable {
    case classification(ClassificationDifference)
    case regression(RegressionTolerance)
    case embedding(EmbeddingFloor)
    case detection(DetectionMatching)
    case ctc(CTCTextDifference)

    /// Top-1 classification: what the product decided on before task kinds existed.
    public static let topOneClassification = TaskKind.classification(ClassificationDifference())

    /// Compares one sample's outputs, each as `samples(of:shape:)` cut it from its model's output.
    public func isMateriallyDifferent(reference: [Float], candidate: [Float]) -> Bool {
        switch self {
        case .classification(let rule): return rule.isMateriallyDifferent(reference: reference, candidate: candidate)
        case .regression(let rule): return rule.isMateriallyDifferent(reference: reference, candidate: candidate)
        case .embedding(let rule): return rule.isMateriallyDifferent(reference: reference, candidate: candidate)
        case .detection(let rule):
            return rule.isMateriallyDifferent(
                reference: DetectedBox.boxes(fromRows: reference), candidate: DetectedBox.boxes(fromRows: candidate))
        case .ctc(let rule):
            return rule.isMateriallyDifferent(reference: reference.map { Int($0) }, candidate: candidate.map { Int($0) })
        }
    }

    /// True when outputs are class scores, so labels and per-class slices mean something.
    public var hasClasses: Bool {
        if case .classification = self { return true }
        return false
    }

    /// True when samples are the models' output values themselves, so value measures (KL divergence,
    /// largest difference) apply; detection and CTC samples are decoded boxes and texts.
    public var comparesOutputValues: Bool {
        switch self {
        case .classification, .regression, .embedding: true
        case .detection, .ctc: false
        }
    }
}

/// Classification: materially different when the top-1 class differs, which makes the disagreement
/// rate an upper bound on the accuracy drop; optionally also when the candidate moves more than
/// `maximumProbabilityShift` of probability away from the reference's top class.
public struct ClassificationDifference: Sendable, Equatable, Codable {
    public var maximumProbabilityShift: Double?

    public init(maximumProbabilityShift: Double? = nil) {
        if let maximumProbabilityShift {
            precondition(
                maximumProbabilityShift > 0 && maximumProbabilityShift < 1,
                "maximumProbabilityShift must be in (0, 1), got \(maximumProbabilityShift)")
        }
        self.maximumProbabilityShift = maximumProbabilityShift
    }

    public func isMateriallyDifferent(reference: [Float], candidate: [Float]) -> Bool {
        if OutputComparison.top1(reference) != OutputComparison.top1(candidate) { return true }
        guard let maximumProbabilityShift else { return false }
        return OutputComparison.referenceTopProbabilityShift(reference: reference, candidate: candidate)
            > maximumProbabilityShift
    }
}

/// Regression: materially different when any output misses the reference by more than
/// `absolute + relative * |reference|` (numpy's isclose, so both small and large targets are
/// judged sensibly). NaN in either output is always material.
public struct RegressionTolerance: Sendable, Equatable, Codable {
    public var absolute: Double
    public var relative: Double

    public init(absolute: Double, relative: Double) {
        precondition(absolute >= 0 && relative >= 0, "tolerances must not be negative, got \(absolute), \(relative)")
        precondition(absolute > 0 || relative > 0, "a zero tolerance makes every rounding material")
        self.absolute = absolute
        self.relative = relative
    }

    public func isMateriallyDifferent(reference: [Float], candidate: [Float]) -> Bool {
        precondition(reference.count == candidate.count, "RegressionTolerance: lengths differ")
        for (r, c) in zip(reference, candidate) {
            let error = abs(Double(c) - Double(r))
            if error.isNaN || error > absolute + relative * abs(Double(r)) { return true }
        }
        return false
    }
}

/// Embeddings: materially different when the cosine similarity falls below `minimumCosine`.
public struct EmbeddingFloor: Sendable, Equatable, Codable {
    public var minimumCosine: Double

    public init(minimumCosine: Double) {
        precondition((-1...1).contains(minimumCosine), "minimumCosine must be in [-1, 1], got \(minimumCosine)")
        self.minimumCosine = minimumCosine
    }

    public func isMateriallyDifferent(reference: [Float], candidate: [Float]) -> Bool {
        let cosine = OutputComparison.cosineSimilarity(reference, candidate)
        return cosine.isNaN || cosine < minimumCosine
    }
}
