import Foundation

/// Paired comparison of one sampled request: reference output vs candidate output.
///
/// Both outputs come from the same input run through the reference and the candidate model, so they
/// must have the same length; a mismatch is a programming error in the caller and traps.
public enum OutputComparison {
    /// Position (from the start) of the largest value; the first one wins on ties, NaN values never
    /// win. Takes a slice too: one timestep of a CTC output, one box's class scores.
    /// - Precondition: `values` is not empty.
    public static func top1<Values: RandomAccessCollection<Float>>(_ values: Values) -> Int {
        precondition(!values.isEmpty, "OutputComparison.top1: the output vector is empty")
        var bestIndex = values.startIndex
        for index in values.indices.dropFirst() {
            let value = values[index]
            let best = values[bestIndex]
            if value > best || (best.isNaN && !value.isNaN) {
                bestIndex = index
            }
        }
        return values.distance(from: values.startIndex, to: bestIndex)
    }

    /// Probabilities below this are clamped in the candidate so that a candidate that is certain
    /// where the reference is not gives a large, finite divergence instead of infinity.
    static let probabilityFloor = 1e-12

    /// Sums further than this from 1 mean the vector holds logits or scores, not probabilities.
    static let probabilitySumTolerance = 1e-3

    /// KL(p || q) in nats, p = reference, q = candidate. A vector that is not a probability
    /// distribution (a negative entry, or a sum far from 1) is read as logits and softmaxed first;
    /// each vector is judged on its own.
    /// - Precondition: both vectors have the same, non-zero length.
    public static func klDivergence(reference: [Float], candidate: [Float]) -> Double {
        precondition(!reference.isEmpty, "OutputComparison.klDivergence: the output vectors are empty")
        precondition(
            reference.count == candidate.count,
            "OutputComparison.klDivergence: reference has \(reference.count) values, candidate \(candidate.count)")
        let p = probabilities(reference)
        let q = probabilities(candidate)
        var divergence = 0.0
        for (pi, qi) in zip(p, q) where pi > 0 {
            divergence += pi * (log(pi) - log(max(qi, probabilityFloor)))
        }
        // Rounding in the normalisation can leave a tiny negative value for identical inputs.
        return max(divergence, 0)
    }

    /// Largest absolute element-wise difference; NaN when either vector holds a NaN.
    /// - Precondition: both vectors have the same length.
    public static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "OutputComparison.maxAbsDifference: lengths \(a.count) and \(b.count) differ")
        var largest = 0.0
        for (x, y) in zip(a, b) {
            let difference = abs(Double(x) - Double(y))
            if difference.isNaN { return .nan }
            largest = max(largest, difference)
        }
        return largest
    }

    /// The vector as a probability distribution in Double: renormalised when it already is one,
    /// softmaxed (max-shifted for stability) when it is not.
    static func probabilities(_ values: [Float]) -> [Double] {
        let doubles = values.map(Double.init)
        let sum = doubles.reduce(0, +)
        let isDistribution = doubles.allSatisfy { $0 >= 0 } && abs(sum - 1) <= probabilitySumTolerance
        if isDistribution {
            return doubles.map { $0 / sum }
        }
        let shift = doubles.max() ?? 0
        let exponentials = doubles.map { exp($0 - shift) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}
