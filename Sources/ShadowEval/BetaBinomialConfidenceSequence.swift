import Foundation

/// Robbins' beta-binomial mixture confidence sequence for a Bernoulli rate.
///
/// With prior Beta(a, b) over the rate, the mixture likelihood ratio against a fixed rate p after
/// s successes in n trials is
///
///     M(p) = B(a + s, b + n - s) / B(a, b) / (p^s (1 - p)^(n - s)),
///
/// a nonnegative martingale with mean 1 under p. By Ville's inequality M(p) reaches 1/alpha at any
/// n with probability at most alpha, so {p : M(p) < 1/alpha} covers the true rate simultaneously
/// for every n: the coordinator may re-evaluate after every window and stop whenever it likes.
/// log M is convex in p and negative at s/n, so the set is an interval around s/n whose ends are
/// found by bisection on log M.
public struct BetaBinomialConfidenceSequence: Sendable, Equatable {
    /// Prior Beta(a, b). Any prior keeps the guarantee; it only decides where the sequence is tight.
    public var a: Double
    public var b: Double

    /// Prior Beta(0.5, 24.5): mean 2 %, the middle of the 1-3 % band the policy decides in, with
    /// the weight of 25 observations. Against the uniform Beta(1, 1) this narrows the bounds on
    /// rates near 1 % by 10-50 % (upper bound after 0 of 500: 0.9 % instead of 1.8 %) and widens
    /// them only for rates far above 3 %, where the decision (stay-fp16) is clear anyway.
    public static let rolloutDefault = BetaBinomialConfidenceSequence(a: 0.5, b: 24.5)

    /// Most narrowing steps per interval end: 64 halvings of [0, 1] reach far below any meaningful
    /// rate resolution, and Newton steps usually stop far sooner.
    static let bisectionSteps = 64

    public init(a: Double, b: Double) {
        precondition(a > 0 && b > 0, "Beta prior parameters must be positive, got a = \(a), b = \(b)")
        self.a = a
        self.b = b
    }

    /// log M(p) after `successes` in `trials`.
    public func logMixtureMartingale(rate p: Double, successes s: Int, trials n: Int) -> Double {
        precondition(0...n ~= s, "successes \(s) outside 0...\(n)")
        return logMixture(successes: s, trials: n) - logLikelihood(rate: p, successes: s, trials: n)
    }

    /// True when `rate` is still inside the confidence set at level `alpha`.
    public func contains(rate: Double, successes: Int, trials: Int, alpha: Double) -> Bool {
        logMixtureMartingale(rate: rate, successes: successes, trials: trials) < log(1 / alpha)
    }

    /// The confidence interval at level `alpha` after `successes` in `trials`; [0, 1] with no trials.
    /// The ends are rounded outward, so the interval never claims more than the evidence allows.
    public func interval(successes: Int, trials: Int, alpha: Double) -> ClosedRange<Double> {
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), got \(alpha)")
        precondition(0...trials ~= successes, "successes \(successes) outside 0...\(trials)")
        guard trials > 0 else { return 0...1 }
        let estimate = Double(successes) / Double(trials)
        // The mixture term does not depend on the rate: computed once per interval, not per step
        // (it is the lgamma work; a step costs two logarithms).
        let threshold = log(1 / alpha)
        let mixture = logMixture(successes: successes, trials: trials)
        let excess = { (rate: Double) -> (value: Double, slope: Double) in
            let value = mixture - self.logLikelihood(rate: rate, successes: successes, trials: trials) - threshold
            let slope = Double(trials - successes) / (1 - rate) - Double(successes) / rate
            return (value, slope)
        }
        let lower = successes == 0 ? 0 : boundary(inside: estimate, outside: 0, excess: excess)
        let upper = successes == trials ? 1 : boundary(inside: estimate, outside: 1, excess: excess)
        return lower...upper
    }

    /// Narrows [inside, outside] onto the end of the set, where log M(p) - log(1/alpha) crosses 0,
    /// and returns the outside end. log M is convex in p, so a Newton step taken from the outside
    /// lands between the end and the outside point: still outside, and quadratically closer. Steps
    /// that leave the bracket (the first ones, from 0 or 1, where log M is infinite), or that
    /// rounding puts inside, fall back to bisection, so it never does worse than bisection.
    private func boundary(
        inside: Double, outside: Double, excess: (Double) -> (value: Double, slope: Double)
    ) -> Double {
        var inside = inside
        var outside = outside
        for _ in 0..<Self.bisectionSteps {
            let (value, slope) = excess(outside)
            let newton = outside - value / slope
            let isBetween = min(inside, outside) < newton && newton < max(inside, outside)
            let next = isBetween ? newton : (inside + outside) / 2
            if next == outside || next == inside { break }
            if excess(next).value < 0 { inside = next } else { outside = next }
        }
        return outside
    }

    /// log of the marginal likelihood of the counts under the prior, B(a + s, b + n - s) / B(a, b).
    private func logMixture(successes s: Int, trials n: Int) -> Double {
        logBeta(a + Double(s), b + Double(n - s)) - logBeta(a, b)
    }

    /// log of p^s (1 - p)^(n - s); 0 * log(0) is 0 here: a rate of 0 explains zero successes perfectly.
    private func logLikelihood(rate p: Double, successes s: Int, trials n: Int) -> Double {
        let successTerm = s == 0 ? 0 : Double(s) * log(p)
        let failureTerm = n == s ? 0 : Double(n - s) * log1p(-p)
        return successTerm + failureTerm
    }

    private func logBeta(_ x: Double, _ y: Double) -> Double {
        logGamma(x) + logGamma(y) - logGamma(x + y)
    }

    /// The reentrant lgamma (lgamma_r underneath): plain C lgamma writes the global `signgam`,
    /// a data race when several rollouts are evaluated at once.
    private func logGamma(_ x: Double) -> Double {
        let (value, _): (Double, Int) = lgamma(x)
        return value
    }
}
