import Foundation

/// What accuracy-aware quantization must hold: the drop in `metric` against the float model on
/// `validation` rows at most `maxDrop`.
public struct AccuracyGoal: Sendable {
    public enum Metric: String, Sendable, CaseIterable, Codable {
        /// Top-1 accuracy against the labels, or top-1 disagreement with the float model without labels.
        case top1
        /// R^2 against the `target` array (regression).
        case r2
        /// 1 - mean cosine similarity of the outputs to the float model's (embeddings).
        case cosine
    }

    public var metric: Metric
    public var maxDrop: Double
    public var validation: URL

    public init(metric: Metric, maxDrop: Double, validation: URL) {
        self.metric = metric
        self.maxDrop = maxDrop
        self.validation = validation
    }

    /// How much worse `candidate` is than `reference` on this goal's metric.
    func drop(reference: ValidationResults, candidate: ValidationResults) throws(QuantizationError) -> Double {
        switch metric {
        case .top1:
            let comparison = try ResultComparison(reference: reference, candidate: candidate)
            guard let referenceAccuracy = comparison.referenceAccuracy, let candidateAccuracy = comparison.candidateAccuracy else {
                return Double(comparison.disagreements) / Double(max(comparison.samples, 1))
            }
            return referenceAccuracy - candidateAccuracy
        case .r2:
            guard let targets = reference.labels else {
                throw .invalidOption("--metric r2 needs a `target` array in \(validation.path)")
            }
            let predictions = { (results: ValidationResults) in results.outputs.map { Double($0.first ?? 0) } }
            return Metrics.rSquared(predictions(reference), targets) - Metrics.rSquared(predictions(candidate), targets)
        case .cosine:
            let similarities = zip(reference.outputs, candidate.outputs).map { a, b in
                let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let norms = sqrt(a.reduce(0.0) { $0 + Double($1 * $1) }) * sqrt(b.reduce(0.0) { $0 + Double($1 * $1) })
                return norms > 0 ? dot / norms : 1
            }
            return 1 - similarities.reduce(0, +) / Double(max(similarities.count, 1))
        }
    }
}
