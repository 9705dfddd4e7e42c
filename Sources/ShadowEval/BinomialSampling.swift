import Foundation

/// Draws binomial counts directly, so a simulated window of n samples costs O(n p) work instead of
/// n uniform draws.
public enum BinomialSampling {
    /// Chunks keep q^n, the inversion's starting probability, above Double's smallest normal value
    /// (0.5^1000 is about 1e-301), so long windows cannot underflow it to 0.
    static let chunk = 1000

    /// Successes in `trials` independent trials of `probability`, by inversion of the CDF.
    public static func sample<Generator: RandomNumberGenerator>(
        trials: Int, probability: Double, using generator: inout Generator
    ) -> Int {
        precondition(trials >= 0, "trials must not be negative, got \(trials)")
        precondition((0...1).contains(probability), "probability must be in [0, 1], got \(probability)")
        // Inversion walks up from 0, so it is fast when the mean is small: count the rarer side.
        if probability > 0.5 { return trials - sample(trials: trials, probability: 1 - probability, using: &generator) }
        var successes = 0
        var remaining = trials
        while remaining > 0 {
            let size = min(remaining, chunk)
            successes += invert(trials: size, probability: probability, using: &generator)
            remaining -= size
        }
        return successes
    }

    private static func invert<Generator: RandomNumberGenerator>(
        trials n: Int, probability p: Double, using generator: inout Generator
    ) -> Int {
        if p == 0 { return 0 }
        let oddsOfSuccess = p / (1 - p)
        let uniform = Double.random(in: 0..<1, using: &generator)
        var k = 0
        var mass = pow(1 - p, Double(n))
        var cumulative = mass
        while uniform >= cumulative && k < n {
            mass *= oddsOfSuccess * Double(n - k) / Double(k + 1)
            k += 1
            cumulative += mass
        }
        return k
    }
}
