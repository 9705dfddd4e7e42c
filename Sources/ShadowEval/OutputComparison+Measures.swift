import Foundation

/// Measures beyond top-1 for the task kinds: each compares one reference output with the
/// candidate's output for the same input.
extension OutputComparison {
    /// Indices of the `k` largest values, largest first (NaN values last, ties to the lower index).
    public static func topK(_ values: [Float], k: Int) -> [Int] {
        precondition(k >= 1, "OutputComparison.topK: k must be at least 1, got \(k)")
        let ranked = values.indices.sorted { left, right in
            let (a, b) = (values[left], values[right])
            switch (a.isNaN, b.isNaN) {
            case (false, true): return true
            case (true, false): return false
            case (true, true): return left < right
            case (false, false): return a > b || (a == b && left < right)
            }
        }
        return Array(ranked.prefix(k))
    }

    /// Fraction of the reference's top k classes that are also in the candidate's top k.
    public static func topKOverlap(reference: [Float], candidate: [Float], k: Int) -> Double {
        precondition(reference.count == candidate.count, "OutputComparison.topKOverlap: lengths differ")
        let referenceTop = Set(topK(reference, k: k))
        let shared = topK(candidate, k: k).filter(referenceTop.contains).count
        return Double(shared) / Double(referenceTop.count)
    }

    /// How much probability the candidate takes away from the reference's top class (negative when
    /// it gives more); both outputs read as distributions as `klDivergence` reads them.
    public static func referenceTopProbabilityShift(reference: [Float], candidate: [Float]) -> Double {
        precondition(reference.count == candidate.count, "OutputComparison.referenceTopProbabilityShift: lengths differ")
        let top = top1(reference)
        return probabilities(reference)[top] - probabilities(candidate)[top]
    }

    /// True when the candidate ranks the reference's runner-up above the reference's top class: the
    /// reference's margin changed sign. Single-output vectors have no margin to flip.
    public static func isMarginFlip(reference: [Float], candidate: [Float]) -> Bool {
        precondition(reference.count == candidate.count, "OutputComparison.isMarginFlip: lengths differ")
        guard reference.count >= 2 else { return false }
        let ranked = topK(reference, k: 2)
        return candidate[ranked[1]] > candidate[ranked[0]]
    }

    /// Cosine similarity in Double; 1 for two zero vectors (nothing differs), 0 when only one is zero.
    public static func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "OutputComparison.cosineSimilarity: lengths \(a.count) and \(b.count) differ")
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            normA += Double(x) * Double(x)
            normB += Double(y) * Double(y)
        }
        if normA == 0 && normB == 0 { return 1 }
        if normA == 0 || normB == 0 { return 0 }
        return dot / (normA.squareRoot() * normB.squareRoot())
    }

    /// Largest element-wise |candidate - reference| / |reference|, with |reference| floored at
    /// `floor` so that near-zero targets do not turn rounding into huge relative errors.
    public static func maxRelativeDifference(reference: [Float], candidate: [Float], floor: Double = 1e-12) -> Double {
        precondition(reference.count == candidate.count, "OutputComparison.maxRelativeDifference: lengths differ")
        var largest = 0.0
        for (r, c) in zip(reference, candidate) {
            let relative = abs(Double(c) - Double(r)) / max(abs(Double(r)), floor)
            if relative.isNaN { return .nan }
            largest = max(largest, relative)
        }
        return largest
    }
}
