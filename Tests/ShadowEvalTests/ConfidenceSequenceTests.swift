import Foundation
import XCTest

@testable import ShadowEval

final class ConfidenceSequenceTests: XCTestCase {
    private let sequence = BetaBinomialConfidenceSequence.rolloutDefault

    /// Continuous monitoring: a stream counts as a miss if the true rate is excluded at any step.
    func testCoverageHoldsUnderContinuousMonitoring() {
        let alpha = 0.05
        let streams = 2000
        let steps = 500
        for trueRate in [0.02, 0.3] {
            var generator = SeededGenerator(seed: 20_261_129)
            var streamsThatEverExcluded = 0
            for _ in 0..<streams {
                var successes = 0
                for trials in 1...steps {
                    if Double.random(in: 0..<1, using: &generator) < trueRate { successes += 1 }
                    if !sequence.contains(rate: trueRate, successes: successes, trials: trials, alpha: alpha) {
                        streamsThatEverExcluded += 1
                        break
                    }
                }
            }
            let missRate = Double(streamsThatEverExcluded) / Double(streams)
            XCTAssertLessThan(missRate, alpha, "true rate \(trueRate) was excluded in \(missRate) of the streams")
        }
    }

    /// The interval's ends are exactly where membership changes.
    func testIntervalEndsAreTheMembershipBoundary() {
        let alpha = 0.05
        for (successes, trials) in [(1, 10), (10, 1000), (150, 500), (999, 1000)] {
            let interval = sequence.interval(successes: successes, trials: trials, alpha: alpha)
            let inside = { (rate: Double) in
                self.sequence.contains(rate: rate, successes: successes, trials: trials, alpha: alpha)
            }
            XCTAssertFalse(inside(interval.lowerBound))
            XCTAssertTrue(inside(interval.lowerBound + 1e-9))
            XCTAssertFalse(inside(interval.upperBound))
            XCTAssertTrue(inside(interval.upperBound - 1e-9))
            XCTAssertTrue(interval.contains(Double(successes) / Double(trials)))
        }
    }

    /// Reference values from an independent Python bisection on the same formula.
    func testKnownValues() {
        let cases: [(successes: Int, trials: Int, lower: Double, upper: Double)] = [
            (0, 500, 0.0, 0.009024000673511225),
            (10, 1000, 0.003132707078357148, 0.023010843522169366),
            (150, 500, 0.20522510719166046, 0.4079134490261135),
            (37, 2000, 0.010317641842140911, 0.030074464752857303),
        ]
        for known in cases {
            let interval = sequence.interval(successes: known.successes, trials: known.trials, alpha: 0.05)
            XCTAssertEqual(interval.lowerBound, known.lower, accuracy: 1e-12)
            XCTAssertEqual(interval.upperBound, known.upper, accuracy: 1e-12)
        }
    }

    /// Uniform prior, no successes: M(p) = 1 / ((n + 1)(1 - p)^n), so the upper end is
    /// 1 - ((n + 1) / alpha)^(-1/n) in closed form.
    func testUniformPriorWithoutSuccessesMatchesClosedForm() {
        let uniform = BetaBinomialConfidenceSequence(a: 1, b: 1)
        for trials in [1, 50, 5000] {
            let alpha = 0.05
            let expected = 1 - pow(Double(trials + 1) / alpha, -1 / Double(trials))
            let interval = uniform.interval(successes: 0, trials: trials, alpha: alpha)
            XCTAssertEqual(interval.lowerBound, 0)
            XCTAssertEqual(interval.upperBound, expected, accuracy: 1e-12)
        }
    }

    func testIntervalShrinksAsEvidenceGrows() {
        var previousWidth = 1.0
        for trials in [100, 1000, 10_000, 100_000] {
            let interval = sequence.interval(successes: trials / 50, trials: trials, alpha: 0.05)
            let width = interval.upperBound - interval.lowerBound
            XCTAssertLessThan(width, previousWidth, "width did not shrink at n = \(trials)")
            previousWidth = width
        }
    }

    func testHigherConfidenceGivesWiderInterval() {
        let at95 = sequence.interval(successes: 20, trials: 1000, alpha: 0.05)
        let at99 = sequence.interval(successes: 20, trials: 1000, alpha: 0.01)
        XCTAssertLessThan(at99.lowerBound, at95.lowerBound)
        XCTAssertGreaterThan(at99.upperBound, at95.upperBound)
    }

    func testEdgeCounts() {
        XCTAssertEqual(sequence.interval(successes: 0, trials: 0, alpha: 0.05), 0...1)
        let allSuccesses = sequence.interval(successes: 100, trials: 100, alpha: 0.05)
        XCTAssertEqual(allSuccesses.upperBound, 1)
        // The prior leans towards small rates, so all-successes is pulled down, still far above 3 %.
        XCTAssertGreaterThan(allSuccesses.lowerBound, 0.5)
    }
}
