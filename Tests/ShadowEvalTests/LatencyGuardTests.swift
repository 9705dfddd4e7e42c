import Foundation
import XCTest

@testable import ShadowEval

final class LatencyGuardTests: XCTestCase {
    private let policy = Policy(
        version: "latency.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
        minimumSamples: 500, minimumLabelled: 500, guards: PolicyGuards(maximumLatencyRatio: 1.0))

    private func sketch(_ values: [Double]) -> LogHistogram {
        var sketch = LogHistogram()
        for value in values { sketch.record(value) }
        return sketch
    }

    /// Paired evidence that ships on accuracy, with the given per-request ratios beside it.
    private func evidence(ratios: LogHistogram?, referenceMean: Double = 1000, candidateMean: Double = 500) -> RolloutEvidence {
        var overall = EvidenceTotals()
        for _ in 0..<200 { overall.append(EvidenceTotals(windows: 1, samples: 100)) }
        return RolloutEvidence(
            overall: overall,
            cost: CostEvidence(referenceMeanLatencyMicros: referenceMean, candidateMeanLatencyMicros: candidateMean, latencyRatios: ratios))
    }

    // MARK: The quantile's confidence sequence

    func testNoSamplesBoundNothing() {
        let bounds = QuantileConfidenceSequence(quantile: 0.5, alpha: 0.05).interval(LogHistogram())
        XCTAssertEqual(bounds.lowerBound, 0)
        XCTAssertEqual(bounds.upperBound, .infinity)
    }

    /// A point mass: the interval closes on its bucket, whose edges lie within 2 % of the value.
    func testManyEqualSamplesCloseOnTheirBucket() {
        let bounds = QuantileConfidenceSequence(quantile: 0.5, alpha: 0.05).interval(sketch(Array(repeating: 2, count: 1000)))
        XCTAssertTrue(bounds.contains(2))
        XCTAssertGreaterThan(bounds.lowerBound, 2 / 1.03)
        XCTAssertLessThan(bounds.upperBound, 2 * 1.03)
    }

    /// Half the samples at 1, half at 3: the median is somewhere in [1, 3] and nothing narrower
    /// holds; a few samples are not enough to bound it at all.
    func testTiedHalvesBoundTheMedianByTheirValues() {
        let sequence = QuantileConfidenceSequence(quantile: 0.5, alpha: 0.05)
        let halves = sequence.interval(sketch(Array(repeating: 1, count: 500) + Array(repeating: 3, count: 500)))
        XCTAssertLessThanOrEqual(halves.lowerBound, 1)
        XCTAssertGreaterThanOrEqual(halves.upperBound, 3)
        XCTAssertGreaterThan(halves.lowerBound, 0.9)
        XCTAssertLessThan(halves.upperBound, 3.1)
        let few = sequence.interval(sketch([1, 2, 3]))
        XCTAssertEqual(few.lowerBound, 0)
        XCTAssertEqual(few.upperBound, .infinity)
    }

    /// A high quantile needs its tail: 10 % of the samples at 10 put the 0.9 quantile at 10 or just
    /// below, the median stays at 1.
    func testAHighQuantileReadsTheTail() {
        let values = Array(repeating: 1.0, count: 9000) + Array(repeating: 10.0, count: 1000)
        let tail = QuantileConfidenceSequence(quantile: 0.95, alpha: 0.05).interval(sketch(values))
        XCTAssertGreaterThan(tail.lowerBound, 9.5)
        let median = QuantileConfidenceSequence(quantile: 0.5, alpha: 0.05).interval(sketch(values))
        XCTAssertLessThan(median.upperBound, 1.05)
    }

    /// Uniformly over time: in 1000 seeded rollouts checked after every 100-request window up to
    /// 5,000 requests, the sequence excluded the true median ratio in at most 5 % of them.
    func testCoverageHoldsUniformlyOverTime() {
        let simulation = LatencyGuardSimulation(policy: policy, settings: .init(runs: 1000, seed: 11, maximumSamples: 5_000))
        let failures = simulation.coverageFailureRate(trueRatio: 1.0)
        XCTAssertLessThanOrEqual(failures, 0.05)
    }

    // MARK: The guard in a decision

    func testAFastCandidateClearsTheGuardAndShips() {
        let ratios = sketch(Array(repeating: 0.5, count: 600))
        let result = PolicyEvaluator.decide(evidence(ratios: ratios), policy: policy)
        XCTAssertEqual(result.decision.outcome, .ship, result.decision.reason)
        XCTAssertEqual(result.brokenGuards, [])
        XCTAssertEqual(result.pendingGuards, [])
    }

    func testASlowCandidateBreaksTheGuardWithItsBounds() {
        let ratios = sketch(Array(repeating: 1.5, count: 600))
        let result = PolicyEvaluator.decide(evidence(ratios: ratios, candidateMean: 1500), policy: policy)
        XCTAssertEqual(result.decision.outcome, .stayFP16)
        let broken = try? XCTUnwrap(result.brokenGuards.first)
        XCTAssertTrue(broken?.hasPrefix("candidate latency is 1.5") == true, broken ?? "")
        XCTAssertTrue(broken?.contains("median per-request ratio, 95.00 % bounds [") == true, broken ?? "")
        XCTAssertTrue(broken?.hasSuffix("over 600 requests), above max-latency-ratio 1.0") == true, broken ?? "")
    }

    /// Ratios spread evenly about the limit: neither bound leaves it, and the ship that accuracy
    /// earned waits, where the plug-in mean would have flipped a coin.
    func testACandidateAtTheLimitHoldsTheShip() {
        let ratios = sketch((0..<600).map { 0.5 + Double($0) / 599 })
        let result = PolicyEvaluator.decide(evidence(ratios: ratios, candidateMean: 1000), policy: policy)
        XCTAssertEqual(result.overall.outcome, .ship)
        XCTAssertEqual(result.decision.outcome, .collecting)
        XCTAssertTrue(result.decision.reason.hasPrefix("accuracy ships, guard not yet cleared: candidate latency is"), result.decision.reason)
        XCTAssertTrue(result.decision.reason.hasSuffix("not yet clear of max-latency-ratio 1.0"), result.decision.reason)
        XCTAssertEqual(result.brokenGuards, [])
    }

    func testAHighQuantileFromThePolicyIsJudged() {
        var tail = policy
        tail.guards?.latencyQuantile = 0.99
        // Most requests are fast, 5 % are twice as slow as the reference.
        let ratios = sketch(Array(repeating: 0.5, count: 9500) + Array(repeating: 2, count: 500))
        let result = PolicyEvaluator.decide(evidence(ratios: ratios), policy: tail)
        XCTAssertEqual(result.decision.outcome, .stayFP16)
        XCTAssertTrue(result.brokenGuards.first?.contains("(p99 per-request ratio") == true, "\(result.brokenGuards)")
        XCTAssertEqual(PolicyEvaluator.decide(evidence(ratios: ratios), policy: policy).decision.outcome, .ship, "the median is fast")
    }

    /// Beta-binomial bounds keep the plug-in test on mean latencies, with its words of before; so do
    /// agents that send no per-request ratios, which the words say.
    func testThePlugInTestRemainsForBetaBinomialAndForOlderAgents() {
        var legacy = policy
        legacy.bounds = .betaBinomial
        let slow = RolloutEvidence(
            overall: EvidenceTotals(samples: 20_000, disagreements: 20),
            cost: CostEvidence(referenceMeanLatencyMicros: 1000, candidateMeanLatencyMicros: 1500,
                latencyRatios: sketch(Array(repeating: 0.5, count: 600))))
        XCTAssertEqual(
            PolicyEvaluator.decide(slow, policy: legacy).brokenGuards,
            ["candidate latency is 1.5x the reference's, above max-latency-ratio 1.0"])
        let older = evidence(ratios: nil, candidateMean: 1500)
        XCTAssertEqual(
            PolicyEvaluator.decide(older, policy: policy).brokenGuards,
            ["candidate latency is 1.5x the reference's (mean per sample: these agents send no per-request ratios), "
                + "above max-latency-ratio 1.0"])
    }

    func testLatencyQuantileMustBeAQuantile() {
        var wrong = policy
        wrong.guards?.latencyQuantile = 1
        XCTAssertThrowsError(try wrong.validate()) { error in
            XCTAssertEqual((error as? PolicyError)?.key, "guards.latency-quantile")
            XCTAssertEqual(
                "\(error)", "policy: guards.latency-quantile is 1.0; it is a quantile and must be in (0, 1), e.g. 0.5 for the median")
        }
    }

    // MARK: The simulation

    /// The sequential guard's promise at the limit, where a break and a clearance are both wrong:
    /// each at most 1 - confidence, in 400 seeded rollouts; the plug-in test it replaced breaks about
    /// half of them. Far over the limit it catches the candidate at the first look.
    func testTheSimulatedGuardKeepsItsErrorsAndCatchesSlowCandidates() {
        let simulation = LatencyGuardSimulation(policy: policy, settings: .init(runs: 400, seed: 5, maximumSamples: 5_000))
        let sequential = simulation.run(method: .betting, trueRatio: 1.0, stream: 1)
        XCTAssertLessThanOrEqual(sequential.breakRate, 0.05)
        XCTAssertLessThanOrEqual(sequential.clearRate, 0.05)
        let plugIn = simulation.run(method: .betaBinomial, trueRatio: 1.0, stream: 2)
        XCTAssertGreaterThan(plugIn.breakRate, 0.3)
        let slow = simulation.run(method: .betting, trueRatio: 1.5, stream: 3)
        XCTAssertEqual(slow.breakRate, 1)
        XCTAssertEqual(slow.meanRequests, Double(policy.minimumSamples))
        let fast = simulation.run(method: .betting, trueRatio: 0.5, stream: 4)
        XCTAssertEqual(fast.clearRate, 1)
    }
}
