import Foundation

/// The betting confidence sequence for the mean of observations in [0, 1] (Waudby-Smith and Ramdas,
/// "Estimating means of bounded random variables by betting", JRSS-B 2024): the hedged capital
/// process with predictable plug-in bets.
///
/// For a candidate mean m, a gambler who bets a fraction λ of her wealth that the next observation
/// lands above m multiplies her wealth by 1 + λ (y - m), and one who bets it lands below by
/// 1 - λ (y - m). If the true mean is m, neither can expect to win, whatever bets they choose from
/// past observations, so each wealth is a nonnegative martingale of mean 1 and, by Ville's inequality,
/// reaches 2 / alpha at any time with probability at most alpha / 2. The hedged wealth
/// K(m) = max(K⁺(m), K⁻(m)) / 2 therefore rejects the true mean with probability at most alpha over
/// the whole sequence, and {m : K(m) < 1 / alpha} is a confidence set that may be looked at after
/// every window. When the observations vary little (paired disagreement, where almost every sample
/// is a tie), the right bets are large and the wealth at a wrong m grows fast: the sequence is much
/// tighter than bounds that know only the range.
///
/// Bets are held constant within a window and chosen from earlier windows only (`BettingTally`), and
/// they come from a fixed ladder of sizes, so the whole process is the counts of observations per bet
/// size: the wealth at any m is recomputed from those counts, exactly, in any order.
public enum BettingConfidenceSequence {
    /// The truncation of WSR's hedged process: a bet on "above m" risks at most this fraction of the
    /// wealth on an observation at 0 (λ ≤ c / m), one on "below m" at most this on an observation at 1.
    static let truncation = 0.5

    /// The confidence the plug-in bets are tuned for (their log(2 / alpha) term). Any bet keeps every
    /// level valid; this only sets where the sequence is tightest, and keeping it fixed keeps the
    /// recorded bets independent of the policy a stage is later judged by.
    static let tuningAlpha = 0.05

    /// The bet sizes: 2^(k/4 - 10) for k in 0..<72, from 0.001 to 215, a quarter octave apart. A
    /// plug-in bet is rounded down onto the ladder, which costs at most 16 % of its size.
    static let ladderSteps = 72
    static let ladderOffset = 40
    static func betSize(step: Int) -> Double {
        precondition(0..<ladderSteps ~= step, "bet step \(step) outside 0..<\(ladderSteps)")
        return exp2(Double(step - ladderOffset) / 4)
    }

    /// The ladder step for the next window's bet (predictable plug-in): with t observations so far
    /// whose sum is `sum` and sum of squares `sumOfSquares`, and n in the next window,
    ///
    ///     λ = sqrt(2 log(2 / alpha) / (σ̂² t' log(1 + t'))),
    ///
    /// where σ̂² is the variance estimate shrunk towards 1/4 by one pseudo-observation and t' the
    /// position of the window's middle observation. The window's size is set by how an agent seals
    /// windows, never by the answers in it, so using it keeps the bet predictable.
    static func betStep(observations t: Int, sum: Double, sumOfSquares: Double, nextWindow n: Int) -> Int {
        let mean = (0.5 + sum) / Double(t + 1)
        let squaredDeviations = max(0, sumOfSquares - 2 * mean * sum + Double(t) * mean * mean)
        let variance = (0.25 + squaredDeviations) / Double(t + 1)
        let position = Double(t) + Double(n + 1) / 2
        let size = (2 * log(2 / tuningAlpha) / (variance * position * log1p(position))).squareRoot()
        let step = Int((4 * log2(size)).rounded(.down)) + ladderOffset
        return min(max(step, 0), ladderSteps - 1)
    }

    /// Which of the hedged pair: the gambler betting above m, or below it.
    enum Side {
        case above
        case below
    }

    /// A tally's observations as the wealth sums read them: one term per (bet size, value) that
    /// occurred, in flat arrays, built once per question rather than once per candidate mean.
    struct WealthTerms {
        private var bets: [Double] = []
        private var values: [Double] = []
        private var counts: [Double] = []

        init(_ tally: BettingTally) {
            let values = tally.kind.values
            for (step, counts) in tally.countsByStep {
                let bet = betSize(step: step)
                for (value, count) in zip(values, counts) where count > 0 {
                    bets.append(bet)
                    self.values.append(value)
                    self.counts.append(Double(count))
                }
            }
        }

        /// log K⁺(m) or log K⁻(m): every observation at y bet with step k adds log(1 + λ⁺ (y - m)), or
        /// log(1 - λ⁻ (y - m)), with λ⁺ = min(λ_k, c / m) and λ⁻ = min(λ_k, c / (1 - m)).
        func logWealth(mean m: Double, side: Side) -> Double {
            let cap = side == .above ? truncation / m : truncation / (1 - m)
            let sign = side == .above ? 1.0 : -1.0
            var wealth = 0.0
            for index in bets.indices {
                wealth += counts[index] * log1p(sign * min(bets[index], cap) * (values[index] - m))
            }
            return wealth
        }

        /// How far the wealth at `mean` is past 2 / alpha (>= 0: the mean is rejected).
        func excess(mean: Double, side: Side, alpha: Double) -> Double {
            logWealth(mean: mean, side: side) - log(2 / alpha)
        }
    }

    /// True when the hedged wealth at `mean` has reached 1 / alpha: the sequence excludes it.
    static func rejects(_ tally: BettingTally, mean: Double, alpha: Double) -> Bool {
        excludesFrom(tally, mean: mean, alpha: alpha) || excludesUpTo(tally, mean: mean, alpha: alpha)
    }

    /// True when the sequence excludes `mean` and every mean above it: K⁻ has reached 2 / alpha there,
    /// and it only grows with m. The interval's upper end is then below `mean`.
    static func excludesFrom(_ tally: BettingTally, mean: Double, alpha: Double) -> Bool {
        WealthTerms(tally).excess(mean: mean, side: .below, alpha: alpha) >= 0
    }

    /// True when the sequence excludes `mean` and every mean below it (the lower end is above it).
    static func excludesUpTo(_ tally: BettingTally, mean: Double, alpha: Double) -> Bool {
        WealthTerms(tally).excess(mean: mean, side: .above, alpha: alpha) >= 0
    }

    /// The confidence interval for the mean at level `alpha`: [0, 1] with no observations.
    ///
    /// K⁺(m) never increases with m and K⁻(m) never decreases (a larger m makes every bet on "above"
    /// win less and lose more), so the set is an interval: its lower end is where K⁺ falls below
    /// 2 / alpha, its upper end where K⁻ rises to it. Each end is found by a bracketing search and
    /// reported at the last point known to be rejected, so the interval never claims more than the
    /// evidence allows.
    public static func interval(_ tally: BettingTally, alpha: Double) -> ClosedRange<Double> {
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), got \(alpha)")
        guard tally.observations > 0 else { return 0...1 }
        let terms = WealthTerms(tally)
        let lower = edge(rejectedAt: 0, keptTowards: 1) { terms.excess(mean: $0, side: .above, alpha: alpha) }
        let upper = edge(rejectedAt: 1, keptTowards: 0) { terms.excess(mean: $0, side: .below, alpha: alpha) }
        // Both ends cross only when the hedged wealth rejects every mean, which happens with
        // probability at most alpha; the interval then shrinks to the point where they met.
        return lower <= upper ? lower...upper : upper...lower
    }

    /// Finds, between an end of [0, 1] and the other end, the boundary of the rejected region that
    /// starts at `rejectedAt` (where `excess` >= 0); returns the rejected side of the final bracket (or
    /// the end itself when nothing next to it is rejected).
    ///
    /// The excess is monotone in the mean and smooth, so regula falsi with the Illinois step (halve
    /// the value kept at a bracket end that stays twice in a row) closes the bracket to 1e-12 in
    /// about a dozen wealth sums where bisection needs forty; a step that would not shrink the
    /// bracket falls back to the midpoint.
    private static func edge(rejectedAt end: Double, keptTowards other: Double, excess: (Double) -> Double) -> Double {
        let nudge = (other - end) * 1e-12
        var (rejected, rejectedExcess) = (end + nudge, excess(end + nudge))
        guard rejectedExcess >= 0 else { return end }
        var (kept, keptExcess) = (other - nudge, excess(other - nudge))
        guard keptExcess < 0 else { return other - nudge }
        var lastMoved: Bool?  // true: the rejected end moved last
        for _ in 0..<200 where abs(kept - rejected) > 1e-12 {
            var probe = (rejected * keptExcess - kept * rejectedExcess) / (keptExcess - rejectedExcess)
            if !(min(rejected, kept) < probe && probe < max(rejected, kept)) || !probe.isFinite { probe = (rejected + kept) / 2 }
            if probe == rejected || probe == kept { break }
            let probeExcess = excess(probe)
            if probeExcess >= 0 {
                (rejected, rejectedExcess) = (probe, probeExcess)
                if lastMoved == true { keptExcess /= 2 }
                lastMoved = true
            } else {
                (kept, keptExcess) = (probe, probeExcess)
                if lastMoved == false { rejectedExcess /= 2 }
                lastMoved = false
            }
        }
        return rejected
    }
}
