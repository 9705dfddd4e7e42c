import Foundation

/// How many samples a classical fixed-sample test needs, the yardstick for the sequential policy.
///
/// A fixed-n test looks once: it sets n in advance so that its two-sided interval at confidence
/// 1 - alpha (z at 1 - alpha/2, the policy's own two-sided level) clears a threshold `margin` away
/// from the true value with power 1 - alpha as well (z at 1 - alpha), by the normal approximation:
///
///     n = ((z(1 - alpha/2) + z(1 - alpha)) * sigma / margin)^2.
///
/// Looking at such a test more than once breaks its guarantee; the confidence sequences pay for
/// being allowed to look after every window with a larger n.
public enum FixedSampleSize {
    /// - Parameters:
    ///   - variance: per-sample variance of the metric at the true value.
    ///   - margin: distance from the true value to the threshold the test must clear; positive.
    public static func samples(variance: Double, margin: Double, confidence: Double) -> Int {
        precondition(variance >= 0, "variance must not be negative, got \(variance)")
        precondition(margin > 0, "margin must be positive, got \(margin)")
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got \(confidence)")
        let alpha = 1 - confidence
        let z = standardNormalQuantile(1 - alpha / 2) + standardNormalQuantile(1 - alpha)
        return Int((z * z * variance / (margin * margin)).rounded(.up))
    }

    /// Inverse of the standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, by bisection: slow next
    /// to a rational approximation but exact to Double precision, and called a handful of times.
    static func standardNormalQuantile(_ probability: Double) -> Double {
        precondition(probability > 0 && probability < 1, "probability must be in (0, 1), got \(probability)")
        var low = -40.0
        var high = 40.0
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if erfc(-middle / 2.squareRoot()) / 2 < probability { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}
