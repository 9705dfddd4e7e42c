import Foundation

/// Seeded rollouts of the latency guard alone (`guards.max-latency-ratio`): how often it breaks or
/// clears wrongly at the limit, and how many requests it takes to catch a slow candidate, for the
/// sequential test (betting bounds) beside the plug-in mean it replaced.
///
/// A simulated fleet has three device classes whose reference latencies differ by 10x (median
/// 800 us, 2.4 ms and 8 ms, each request spread lognormally with sigma 0.25), and each window comes
/// from one device. On every request the candidate takes the reference's latency times the true
/// ratio times a factor uniform in [1 - spread, 1 + spread]: its median and mean are both 1, so the
/// true ratio is at once the median per-request ratio (what the sequential guard judges) and the
/// ratio of means (what the plug-in guard judges), and a run at the limit is a margin case for both.
public struct LatencyGuardSimulation: Sendable {
    public let policy: Policy
    public let settings: PolicySimulation.Settings
    /// The policy's `max-latency-ratio`, or 1.0 when it sets none.
    public let limit: Double
    /// Half-width of the per-request factor around the true ratio: 0.5 makes requests vary from
    /// half to one and a half times it, as a shadow run sharing a busy device's cores does.
    public var spread = 0.5

    static let deviceMedianMicros = [800.0, 2400.0, 8000.0]
    static let deviceSigma = 0.25

    public init(policy: Policy, settings: PolicySimulation.Settings) {
        self.policy = policy
        self.settings = settings
        self.limit = Self.limit(of: policy)
    }

    /// The latency limit `policy` sets, or 1.0 when it sets none.
    public static func limit(of policy: Policy) -> Double {
        policy.guards?.maximumLatencyRatio ?? 1.0
    }

    /// True ratios relative to the limit: clearly within (0.5x), just within (0.95x), the limit
    /// itself (any break there is wrong, and so is any clearance), just over (1.1x) and far over (1.5x).
    public var trueRatios: [Double] { [0.5, 0.95, 1.0, 1.1, 1.5].map { tidy($0 * limit) } }

    /// Both tests at every true ratio, scenarios run concurrently.
    public func results() async -> [LatencyGuardResult] {
        let scenarios = [BoundMethod.betting, .betaBinomial].flatMap { method in trueRatios.map { (method, $0) } }
        return await runConcurrently(scenarios) { index, scenario in
            self.run(method: scenario.0, trueRatio: scenario.1, stream: UInt64(index))
        }
    }

    /// `settings.runs` rollouts at one true ratio, judged after every window from `minimum-samples` on.
    public func run(method: BoundMethod, trueRatio: Double, stream: UInt64 = 0) -> LatencyGuardResult {
        var generator = generator(stream: stream, salt: 0x5851_F42D_4C95_7F2D)
        let judge = LatencyGuard(policy: policy, limit: limit, method: method)
        var result = LatencyGuardResult(method: method, trueRatio: trueRatio, runs: settings.runs)
        for _ in 0..<settings.runs {
            var cost = Cost()
            var verdict: LatencyGuard.VerdictKind = .undecided
            while cost.requests < settings.maximumSamples {
                cost.append(window(trueRatio: trueRatio, using: &generator))
                guard cost.requests >= policy.minimumSamples else { continue }
                verdict = judge.kind(cost.evidence) ?? .undecided
                if verdict != .undecided { break }
            }
            result.record(verdict, requests: cost.requests)
        }
        return result
    }

    /// Coverage at the limit, and at 1.1x it: the limit is a bucket edge when it is a power of the
    /// sketch's gamma (1.0 is), where the sketch's rounding alone keeps the truth inside; 1.1 lies
    /// inside a bucket.
    public func coverageResults() -> [LatencyCoverageResult] {
        [limit, tidy(1.1 * limit)].enumerated().map { index, ratio in
            LatencyCoverageResult(trueRatio: ratio, failureRate: coverageFailureRate(trueRatio: ratio, stream: UInt64(index)))
        }
    }

    /// The fraction of `settings.runs` rollouts at `trueRatio` in which the quantile's confidence
    /// sequence ever excluded it, checked after every window: at most 1 - confidence.
    public func coverageFailureRate(trueRatio: Double, stream: UInt64 = 0) -> Double {
        var generator = generator(stream: stream, salt: 0x2545_F491_4F6C_DD1D)
        let sequence = LatencyGuard(policy: policy, limit: limit, method: .betting).sequence
        var failures = 0
        for _ in 0..<settings.runs {
            var cost = Cost()
            while cost.requests < settings.maximumSamples {
                cost.append(window(trueRatio: trueRatio, using: &generator))
                if !sequence.interval(cost.ratios).contains(trueRatio) {
                    failures += 1
                    break
                }
            }
        }
        return Double(failures) / Double(settings.runs)
    }

    private func generator(stream: UInt64, salt: UInt64) -> SeededGenerator {
        var seeder = SeededGenerator(seed: settings.seed ^ (stream &* salt))
        return SeededGenerator(seed: seeder.next())
    }

    /// One window's requests, all from one device class.
    private func window(trueRatio: Double, using generator: inout SeededGenerator) -> Cost {
        let median = Self.deviceMedianMicros.randomElement(using: &generator)!
        var cost = Cost()
        for _ in 0..<settings.windowSize {
            let reference = median * exp(Self.deviceSigma * standardNormal(using: &generator))
            let candidate = reference * trueRatio * Double.random(in: (1 - spread)...(1 + spread), using: &generator)
            cost.record(referenceMicros: reference, candidateMicros: candidate)
        }
        return cost
    }

    /// Box-Muller: one standard normal draw from two uniforms.
    private func standardNormal(using generator: inout SeededGenerator) -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let v = Double.random(in: 0..<1, using: &generator)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// Rounds away binary noise, so ratios print and key as written (0.95 * 1.0, not 0.9500000000000001).
    private func tidy(_ value: Double) -> Double { (value * 1e12).rounded() / 1e12 }

    /// The cost side of a simulated stage, as the running totals keep it.
    private struct Cost {
        var requests = 0
        var referenceMicros = 0.0
        var candidateMicros = 0.0
        var ratios = LogHistogram()

        mutating func record(referenceMicros reference: Double, candidateMicros candidate: Double) {
            requests += 1
            referenceMicros += reference
            candidateMicros += candidate
            ratios.record(WindowAggregator.latencyRatio(referenceMicros: reference, candidateMicros: candidate))
        }

        mutating func append(_ window: Cost) {
            requests += window.requests
            referenceMicros += window.referenceMicros
            candidateMicros += window.candidateMicros
            ratios.merge(window.ratios)
        }

        var evidence: CostEvidence {
            CostEvidence(
                referenceMeanLatencyMicros: referenceMicros / Double(requests),
                candidateMeanLatencyMicros: candidateMicros / Double(requests), latencyRatios: ratios)
        }
    }
}

/// How often the latency quantile's sequence ever excluded the true ratio over a simulated rollout.
public struct LatencyCoverageResult: Sendable, Equatable, Encodable {
    public var trueRatio: Double
    /// Fraction of runs; the policy allows 1 - confidence.
    public var failureRate: Double

    enum CodingKeys: String, CodingKey {
        case trueRatio = "true_ratio"
        case failureRate = "failure_rate"
    }
}

/// How the simulated rollouts of one latency scenario ended.
public struct LatencyGuardResult: Sendable, Equatable, Encodable {
    /// betting: the sequential quantile test; beta-binomial: the plug-in ratio of means.
    public var method: BoundMethod
    public var trueRatio: Double
    public var runs: Int
    public private(set) var broken = 0
    public private(set) var within = 0
    public private(set) var undecided = 0
    /// Requests each run used (to its verdict, or the limit), summed.
    public private(set) var totalRequests = 0

    init(method: BoundMethod, trueRatio: Double, runs: Int) {
        self.method = method
        self.trueRatio = trueRatio
        self.runs = runs
    }

    mutating func record(_ verdict: LatencyGuard.VerdictKind, requests: Int) {
        switch verdict {
        case .broken: broken += 1
        case .within: within += 1
        case .undecided: undecided += 1
        }
        totalRequests += requests
    }

    /// The test's name in the table and the JSON.
    public var test: String { method == .betting ? "sequential" : "plug-in" }

    public var breakRate: Double { Double(broken) / Double(runs) }
    public var clearRate: Double { Double(within) / Double(runs) }
    public var undecidedRate: Double { Double(undecided) / Double(runs) }
    /// Mean requests to a verdict; undecided runs count with the limit.
    public var meanRequests: Double { Double(totalRequests) / Double(runs) }

    enum CodingKeys: String, CodingKey {
        case method, runs, undecided
        case trueRatio = "true_ratio"
        case broken = "break"
        case within = "clear"
        case meanRequests = "mean_requests"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(test, forKey: .method)
        try container.encode(trueRatio, forKey: .trueRatio)
        try container.encode(runs, forKey: .runs)
        try container.encode(breakRate, forKey: .broken)
        try container.encode(clearRate, forKey: .within)
        try container.encode(undecidedRate, forKey: .undecided)
        try container.encode(meanRequests, forKey: .meanRequests)
    }
}
