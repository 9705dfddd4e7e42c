import Foundation

/// Anytime-valid bounds on a quantile of a distribution, read from a `LogHistogram` of samples
/// drawn from it (Howard and Ramdas, "Sequential estimation of quantiles with applications to
/// A/B-testing and best-arm identification", Bernoulli 2022, section 2).
///
/// Say the p-quantile lies in bucket q. For any bucket i, the samples at or below it are a count of
/// independent Bernoulli(F(i)) draws. Below q, F(i) < p; at q, F(q) >= p. So:
/// - Lower bound. The one-sided mixture of likelihood ratios, over rates θ < p against p,
///   `M(N) = mean_k (θ_k / p)^N ((1 - θ_k) / (1 - p))^(n - N)`, is a supermartingale at bucket q
///   (each factor's mean is at most 1 when the true rate is at least p). By Ville's inequality it
///   reaches 1 / alpha with probability at most alpha, at any n. Every bucket whose count makes
///   M reach it lies below q (M falls as the count rises, and counts rise with the bucket), so the
///   lowest bucket left is a lower bound for q, at every n at once.
/// - Upper bound: the mirror image, rates θ > p at bucket q - 1, where F < p.
///
/// Each side is held at alpha / 2, so the interval covers the quantile uniformly over time with
/// probability 1 - alpha. The counts depend only on the histogram, not on the samples' order: the
/// bounds are recomputable from merged sketches. Ties and discrete distributions need no
/// continuity assumption, and the ends are bucket edges, so the interval is never narrower than the
/// sketch can support (the sketch's 1 % relative accuracy widens it by at most 2 % a side).
///
/// The mixture is over a grid of alternatives, not a prior density: `logOddsDistances` from the
/// tested rate, with equal weights. The grid's width costs log(20) in the threshold; in exchange
/// the statistic is a sum of exponentials, exact at any n without incomplete beta functions.
public struct QuantileConfidenceSequence: Sendable {
    /// The quantile bounded, in (0, 1): 0.5 is the median.
    public let quantile: Double
    /// Probability that the interval ever misses the quantile.
    public let alpha: Double

    /// Distances in log-odds between the tested rate and each alternative: 4 down to 0.0055 in
    /// steps of sqrt(2). 4 detects a count that is far off at once (p = 0.5 against 0.018); the
    /// smallest is still the best fit at about 400,000 samples, beyond any one stage.
    static let logOddsDistances: [Double] = (0..<20).map { 4 * pow(2, -Double($0) / 2) }

    /// Each alternative's log-likelihood ratio per count at or below the bucket, and per count above:
    /// rates under the quantile's (the lower bound's test) and over it (the upper bound's).
    private let lowerAlternatives: (atOrBelow: [Double], above: [Double])
    private let upperAlternatives: (atOrBelow: [Double], above: [Double])

    public init(quantile: Double, alpha: Double) {
        precondition(quantile > 0 && quantile < 1, "quantile must be in (0, 1), got \(quantile)")
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), got \(alpha)")
        self.quantile = quantile
        self.alpha = alpha
        let logOdds = log(quantile / (1 - quantile))
        func terms(_ sign: Double) -> (atOrBelow: [Double], above: [Double]) {
            let rates = Self.logOddsDistances.map { 1 / (1 + exp(-(logOdds + sign * $0))) }
            return (rates.map { log($0 / quantile) }, rates.map { log((1 - $0) / (1 - quantile)) })
        }
        lowerAlternatives = terms(-1)
        upperAlternatives = terms(1)
    }

    /// The interval, in the sketch's values: [0, infinity] until the counts exclude something.
    public func interval(_ sketch: LogHistogram) -> ClosedRange<Double> {
        let levels = Self.cumulativeCounts(sketch)
        let n = levels.last?.atOrBelow ?? 0
        let threshold = log(2 / alpha)
        // The lowest level the lower test keeps; levels ascend and counts with them, so the tests'
        // answers are monotone along them and a binary search finds it. The value bound is the
        // bucket's lower edge: its values lie above it. While even no sample below the quantile is
        // plausible, nothing bounds it from below.
        let keptBelowEverySample = logMixture(lowerAlternatives, atOrBelow: 0, of: n) < threshold
        let lower = keptBelowEverySample ? 0 : Self.first(in: levels) { logMixture(lowerAlternatives, atOrBelow: $0, of: n) < threshold }
            .map { Self.lowerEdge($0.bucket) } ?? 0
        let upper = Self.first(in: levels) { logMixture(upperAlternatives, atOrBelow: $0, of: n) >= threshold }
            .map { Self.upperEdge($0.bucket) } ?? .infinity
        return lower...upper
    }

    /// The sketch's occupied levels in ascending order, each with the samples at or below it; zeros
    /// are one level under every bucket (nil). NaN samples are left out, as `LogHistogram.quantile` does.
    static func cumulativeCounts(_ sketch: LogHistogram) -> [(bucket: Int?, atOrBelow: Int)] {
        var levels: [(bucket: Int?, atOrBelow: Int)] = []
        var seen = sketch.zeros
        if seen > 0 { levels.append((nil, seen)) }
        for (bucket, count) in sketch.buckets.sorted(by: { $0.key < $1.key }) {
            seen += count
            levels.append((bucket, seen))
        }
        return levels
    }

    /// The first level whose count satisfies `holds`, which is false up to some level and true from it on.
    private static func first(
        in levels: [(bucket: Int?, atOrBelow: Int)], where holds: (Int) -> Bool
    ) -> (bucket: Int?, atOrBelow: Int)? {
        var (low, high) = (0, levels.count)
        while low < high {
            let middle = (low + high) / 2
            if holds(levels[middle].atOrBelow) { high = middle } else { low = middle + 1 }
        }
        return low < levels.count ? levels[low] : nil
    }

    /// log of the mixture's likelihood ratio after `atOrBelow` of `n` samples fell at or below a level.
    private func logMixture(_ terms: (atOrBelow: [Double], above: [Double]), atOrBelow: Int, of n: Int) -> Double {
        let (inside, outside) = (Double(atOrBelow), Double(n - atOrBelow))
        let logRatio = { (index: Int) in inside * terms.atOrBelow[index] + outside * terms.above[index] }
        // log of a mean of exponentials, taken about the largest so none overflows.
        let largest = terms.atOrBelow.indices.map(logRatio).max()!
        let sum = terms.atOrBelow.indices.reduce(0.0) { $0 + exp(logRatio($1) - largest) }
        return largest + log(sum / Double(terms.atOrBelow.count))
    }

    private static func lowerEdge(_ bucket: Int?) -> Double {
        bucket.map { pow(LogHistogram.gamma, Double($0 - 1)) } ?? 0
    }

    private static func upperEdge(_ bucket: Int?) -> Double {
        bucket.map { pow(LogHistogram.gamma, Double($0)) } ?? 0
    }
}
