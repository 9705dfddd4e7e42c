import Foundation
import XCTest

@testable import ShadowEval

final class PolicySimulationTests: XCTestCase {
    /// The shipped policy's bands, confidence and minimums.
    private let policy = Policy(
        version: "sim.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
        minimumSamples: 2000, minimumLabelled: 1000)

    /// The promise the policy makes: at a true drop of exactly ship-below, at most 1 - confidence of
    /// the rollouts ship, although every rollout is evaluated after every window. 1000 runs per kind
    /// of evidence put the standard error of a 5 % rate at 0.7 %, so a bound that leaked to a 7 %
    /// false-ship rate would fail here 99 % of the time (a fixed-n interval looked at after every
    /// window leaks far more than that).
    func testFalseShipRateAtTheMarginIsWithinOneMinusConfidence() throws {
        let simulation = try PolicySimulation(
            policy: policy, settings: .init(runs: 1000, seed: 7, maximumSamples: 30_000))
        for evidence in PolicySimulation.Evidence.allCases {
            let result = simulation.run(evidence: evidence, trueDrop: 0.01)
            XCTAssertLessThanOrEqual(result.rate(of: .ship), 1 - policy.confidence, "\(evidence)")
        }
    }

    func testClearlyShippableCandidatesAreNotRolledBack() throws {
        let simulation = try PolicySimulation(policy: policy, settings: .init(runs: 200, seed: 8))
        for evidence in PolicySimulation.Evidence.allCases {
            let result = simulation.run(evidence: evidence, trueDrop: 0.005)
            XCTAssertEqual(result.rate(of: .stayFP16), 0, "\(evidence)")
        }
    }

    /// Far from the thresholds the policy decides correctly and soon.
    func testClearDropsAreDecidedCorrectly() throws {
        let simulation = try PolicySimulation(policy: policy, settings: .init(runs: 100, seed: 9))
        let expectations: [(PolicySimulation.Evidence, Double, Outcome)] = [
            (.labelled, 0.002, .ship), (.unlabelled, 0.002, .ship),
            (.labelled, 0.05, .stayFP16), (.unlabelled, 0.05, .stayFP16),
            (.unlabelled, 0.02, .needsQAT),
        ]
        for (evidence, drop, expected) in expectations {
            let result = simulation.run(evidence: evidence, trueDrop: drop)
            XCTAssertGreaterThanOrEqual(result.rate(of: expected), 0.95, "\(evidence) at \(drop)")
            XCTAssertLessThan(result.meanSamples, 20_000, "\(evidence) at \(drop)")
            XCTAssertGreaterThanOrEqual(result.meanSamples, Double(policy.minimumSamples))
        }
    }

    func testTheSameSeedGivesTheSameResult() throws {
        let settings = PolicySimulation.Settings(runs: 20, seed: 42, maximumSamples: 10_000)
        let first = try PolicySimulation(policy: policy, settings: settings).run(evidence: .labelled, trueDrop: 0.01)
        let second = try PolicySimulation(policy: policy, settings: settings).run(evidence: .labelled, trueDrop: 0.01)
        XCTAssertEqual(first, second)
    }

    func testReportNamesTheHeadlineNumbersInJSON() async throws {
        let simulation = try PolicySimulation(
            policy: policy, settings: .init(runs: 5, seed: 3, maximumSamples: 5_000))
        let report = await simulation.report()
        XCTAssertEqual(report.scenarios.count, 10)
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        for key in ["false_ship_rate_at_margin", "false_reject_rate", "mean_samples", "fixed_n_samples", "unlabelled"] {
            XCTAssertNotNil(object[key], key)
        }
        let meanSamples = try XCTUnwrap(object["mean_samples"] as? [String: Double])
        XCTAssertEqual(Set(meanSamples.keys), ["0.002", "0.02", "0.05"])
        XCTAssertTrue(report.table().contains("false ship at the 1.00 % margin"))

        // The latency guard's runs: both tests at five true ratios about the limit (1.0 without a guard).
        let latency = try XCTUnwrap(object["latency_guard"] as? [String: Any])
        XCTAssertEqual(latency["limit"] as? Double, 1.0)
        let rows = try XCTUnwrap(latency["scenarios"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 10)
        XCTAssertEqual(Set(rows.compactMap { $0["method"] as? String }), ["sequential", "plug-in"])
        XCTAssertTrue(report.table().contains("at the limit, wrong break: sequential"), report.table())
    }

    func testSettingsAreValidated() {
        XCTAssertThrowsError(try PolicySimulation(policy: policy, settings: .init(runs: 0))) {
            XCTAssertEqual("\($0)", "policy simulate: runs is 0; it must be at least 1")
        }
        XCTAssertThrowsError(try PolicySimulation(policy: policy, settings: .init(windowSize: 100, maximumSamples: 50)))
    }

    func testTrueDropsFollowThePolicyBands() {
        let drops = TrueDrops(policy: policy)
        XCTAssertEqual(drops.all, [0.002, 0.005, 0.01, 0.02, 0.05])
    }

    /// Normal approximation: paired drop 0.2 % with 0.5 % gains has variance 0.012 - 0.002^2; the
    /// 1 % threshold is 0.8 % away; (1.96 + 1.645)^2 * variance / margin^2.
    func testFixedSampleSizeMatchesTheFormula() {
        XCTAssertEqual(FixedSampleSize.standardNormalQuantile(0.975), 1.959963984540054, accuracy: 1e-12)
        XCTAssertEqual(FixedSampleSize.standardNormalQuantile(0.95), 1.6448536269514722, accuracy: 1e-12)
        let variance = 0.012 - 0.002 * 0.002
        let z = 1.959963984540054 + 1.6448536269514722
        let expected = Int((z * z * variance / (0.008 * 0.008)).rounded(.up))
        XCTAssertEqual(FixedSampleSize.samples(variance: variance, margin: 0.008, confidence: 0.95), expected)
    }

    func testBinomialSamplesHaveTheRightMeanAndVariance() {
        var generator = SeededGenerator(seed: 11)
        for (trials, probability) in [(100, 0.01), (100, 0.7), (2500, 0.3)] {
            let draws = (0..<4000).map { _ in
                Double(BinomialSampling.sample(trials: trials, probability: probability, using: &generator))
            }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count - 1)
            let expectedMean = Double(trials) * probability
            let expectedVariance = expectedMean * (1 - probability)
            XCTAssertEqual(mean, expectedMean, accuracy: 4 * (expectedVariance / 4000).squareRoot())
            XCTAssertEqual(variance, expectedVariance, accuracy: 0.1 * expectedVariance)
        }
        XCTAssertEqual(BinomialSampling.sample(trials: 50, probability: 0, using: &generator), 0)
        XCTAssertEqual(BinomialSampling.sample(trials: 50, probability: 1, using: &generator), 50)
    }
}
