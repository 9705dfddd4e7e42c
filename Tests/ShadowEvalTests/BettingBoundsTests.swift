import Foundation
import XCTest

@testable import ShadowEval

/// The betting confidence sequences: the bounds, the process as counts per bet, and the promises the
/// policy makes with them, checked by seeded simulation.
final class BettingBoundsTests: XCTestCase {
    private let policy = Policy(
        version: "betting.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
        minimumSamples: 500, minimumLabelled: 500)

    /// `windows` windows of `size` rate observations, `hits` of each at 1.
    private func rateTally(windows: Int, size: Int, hits: Int) -> BettingTally {
        var tally = BettingTally(.rate)
        for _ in 0..<windows { tally.record(window: [size - hits, hits]) }
        return tally
    }

    func testWithoutObservationsTheIntervalIsEverything() {
        XCTAssertEqual(BettingTally(.rate).interval(alpha: 0.05), 0...1)
        XCTAssertEqual(BettingTally(.pairedDifference).interval(alpha: 0.05), 0...1)
    }

    func testTheIntervalHoldsTheRateAndNarrowsWithEvidence() {
        var previousWidth = 1.0
        for windows in [10, 100, 1000] {
            let interval = rateTally(windows: windows, size: 100, hits: 2).interval(alpha: 0.05)
            XCTAssertTrue(interval.contains(0.02), "\(windows) windows: \(interval)")
            let width = interval.upperBound - interval.lowerBound
            XCTAssertLessThan(width, previousWidth, "\(windows) windows")
            previousWidth = width
        }
        XCTAssertLessThan(previousWidth, 0.005, "100,000 samples at 2 % pin the rate within half a point")
    }

    /// A bet is chosen from the windows before it: the second window's bet is the plug-in of the
    /// first window's counts, and a tally is the same whenever the same windows come in the same order.
    func testEachWindowIsBetOnAsItsEarlierWindowsChoose() {
        var tally = BettingTally(.rate)
        tally.record(window: [98, 2])
        let firstStep = BettingConfidenceSequence.betStep(observations: 0, sum: 0, sumOfSquares: 0, nextWindow: 100)
        XCTAssertEqual(tally.countsByStep, [firstStep: [98, 2]])
        tally.record(window: [95, 5])
        let secondStep = BettingConfidenceSequence.betStep(observations: 100, sum: 2, sumOfSquares: 2, nextWindow: 100)
        XCTAssertGreaterThan(secondStep, firstStep, "the variance estimate falls from its prior 1/4 towards 2 %, so bets grow")
        XCTAssertEqual(tally.countsByStep, [firstStep: [98, 2], secondStep: [95, 5]])

        var again = BettingTally(.rate)
        again.record(window: [98, 2])
        again.record(window: [95, 5])
        XCTAssertEqual(again, tally)
        var reversed = BettingTally(.rate)
        reversed.record(window: [95, 5])
        reversed.record(window: [98, 2])
        XCTAssertNotEqual(reversed, tally, "the order of the windows is part of the process")
        XCTAssertEqual(reversed.countsByValue, tally.countsByValue)
    }

    /// The paired difference is one bounded mean, bounded at the whole alpha, where the mixture splits
    /// alpha between two rates: with 0.7 % losses and 0.5 % gains (a drop of 0.2 %) betting's upper
    /// bound is well inside the mixture's.
    func testBettingBoundsThePairedDropTighterThanTheMixture() {
        var totals = EvidenceTotals()
        for _ in 0..<200 {
            totals.append(WindowSummary(
                count: 100, top1Agreements: 99, labelled: 100, referenceOnlyCorrect: 1, candidateOnlyCorrect: 0))
            totals.append(WindowSummary(
                count: 100, top1Agreements: 98, labelled: 100, referenceOnlyCorrect: 1, candidateOnlyCorrect: 1))
        }
        var mixture = policy
        mixture.bounds = .betaBinomial
        let betting = PolicyEvaluator.decide(totals, policy: policy)
        let beta = PolicyEvaluator.decide(totals, policy: mixture)
        XCTAssertEqual(betting.boundMethod, .betting)
        XCTAssertEqual(beta.boundMethod, .betaBinomial)
        XCTAssertEqual(betting.statistic, beta.statistic)
        XCTAssertTrue((betting.lowerBound...betting.upperBound).contains(betting.statistic))
        XCTAssertLessThan(betting.upperBound - betting.lowerBound, 0.8 * (beta.upperBound - beta.lowerBound))
    }

    /// The excess over the noise floor is two rates sampled apart, each bounded at alpha / 2.
    func testTheExcessOverTheFloorIsTwoRatesAtHalfAlpha() {
        var totals = EvidenceTotals()
        for _ in 0..<400 {
            // 1.5 % disagreement over a 1 % floor: an excess of 0.5 %.
            totals.append(EvidenceTotals(windows: 1, samples: 200, disagreements: 3, floorSamples: 200, floorDisagreements: 2))
        }
        var subtracting = policy
        subtracting.subtractsNoiseFloor = true
        let decision = PolicyEvaluator.decide(totals, policy: subtracting)
        XCTAssertEqual(decision.metric, DecisionMetric.excessDisagreement.rawValue)
        let candidate = totals.bets.disagreement.interval(alpha: 0.025)
        let floor = totals.bets.floor.interval(alpha: 0.025)
        XCTAssertEqual(decision.upperBound, candidate.upperBound - floor.lowerBound, accuracy: 1e-12)
        XCTAssertEqual(decision.lowerBound, candidate.lowerBound - floor.upperBound, accuracy: 1e-12)
        XCTAssertEqual(decision.outcome, .ship)
    }

    /// Simulations decide by one wealth per threshold instead of the interval's bisections: the
    /// outcome must be the one the coordinator's bounds give.
    func testTheThresholdShortcutAgreesWithTheBounds() {
        var generator = SeededGenerator(seed: 3)
        for trial in 0..<300 {
            let drop = Double.random(in: 0...0.06, using: &generator)
            let evidence: PolicySimulation.Evidence = trial % 2 == 0 ? .labelled : .unlabelled
            var totals = EvidenceTotals()
            for _ in 0..<Int.random(in: 5...200, using: &generator) {
                totals.append(evidence.window(of: 100, trueDrop: drop, candidateGainRate: 0.005, using: &generator))
            }
            XCTAssertEqual(
                PolicyEvaluator.outcome(totals, policy: policy), PolicyEvaluator.decide(totals, policy: policy).outcome,
                "\(evidence) at \(drop) after \(totals.samples) samples")
        }
    }

    func testThePolicyFileChoosesTheBounds() throws {
        let base = "version: v\nship-below: 0.01\nstay-fp16-above: 0.03\nconfidence: 0.95\nminimum-samples: 10\nminimum-labelled: 10\n"
        XCTAssertEqual(try Policy(yaml: base).bounds, .betting, "betting is the default")
        XCTAssertEqual(try Policy(yaml: base + "bounds: beta-binomial\n").bounds, .betaBinomial)
        XCTAssertThrowsError(try Policy(yaml: base + "bounds: hoeffding\n")) { error in
            let failure = error as? PolicyFileError
            XCTAssertEqual(failure?.line, 7, "\(error)")
            XCTAssertEqual(failure?.key, "bounds", "\(error)")
        }
    }

    /// The promises, by seeded simulation for both kinds of evidence and every slice setup: a ship at a
    /// true drop exactly at ship-below, and a needs-qat or stay-fp16 at half of it, each in at most
    /// 1 - confidence of the rollouts.
    func testFalseDecisionsStayWithinAlphaWithAndWithoutSlices() throws {
        for slices in PolicySimulation.SliceSetup.allCases {
            let simulation = try PolicySimulation(
                policy: policy, settings: .init(runs: 100, seed: 21, maximumSamples: 20_000, slices: slices))
            for evidence in PolicySimulation.Evidence.allCases {
                let atMargin = simulation.run(evidence: evidence, trueDrop: 0.01, stream: 1)
                XCTAssertLessThanOrEqual(atMargin.rate(of: .ship), 0.05, "\(slices) \(evidence)")
                let shippable = simulation.run(evidence: evidence, trueDrop: 0.005, stream: 2)
                XCTAssertLessThanOrEqual(
                    shippable.rate(of: .needsQAT) + shippable.rate(of: .stayFP16), 0.05, "\(slices) \(evidence)")
            }
        }
    }

    /// Anytime validity itself: over 1,000 rollouts of 10,000 samples, checked after every window, the
    /// sequence excludes the true drop in at most 1 - confidence of them.
    func testCoverageHoldsUniformlyOverTime() throws {
        let simulation = try PolicySimulation(policy: policy, settings: .init(runs: 1000, seed: 5, maximumSamples: 10_000))
        for evidence in PolicySimulation.Evidence.allCases {
            for drop in [0.002, 0.01] {
                let failures = simulation.coverageFailureRate(evidence: evidence, trueDrop: drop)
                XCTAssertLessThanOrEqual(failures, 0.05, "\(evidence) at \(drop)")
            }
        }
    }

    /// What betting is for: far from the bands, labelled rollouts decide sooner than with the mixture.
    func testBettingDecidesSoonerThanTheMixture() throws {
        var mixture = policy
        mixture.bounds = .betaBinomial
        let settings = PolicySimulation.Settings(runs: 100, seed: 13)
        for drop in [0.002, 0.05] {
            let betting = try PolicySimulation(policy: policy, settings: settings).run(evidence: .labelled, trueDrop: drop)
            let beta = try PolicySimulation(policy: mixture, settings: settings).run(evidence: .labelled, trueDrop: drop)
            XCTAssertLessThan(betting.meanSamples, 0.8 * beta.meanSamples, "at \(drop)")
        }
    }
}
