import Foundation
import XCTest

@testable import ShadowEval

final class OutputComparisonTests: XCTestCase {
    func testTop1PicksFirstOnTiesAndSkipsNaN() {
        XCTAssertEqual(OutputComparison.top1([0.1, 0.7, 0.2]), 1)
        XCTAssertEqual(OutputComparison.top1([3, 5, 5, 1]), 1)
        XCTAssertEqual(OutputComparison.top1([-2]), 0)
        XCTAssertEqual(OutputComparison.top1([.nan, 1, 2]), 2)
        XCTAssertEqual(OutputComparison.top1([1, .nan, 0.5]), 0)
        XCTAssertEqual(OutputComparison.top1([-.infinity, -5]), 1)
    }

    func testKLOfIdenticalDistributionsIsZero() {
        let p: [Float] = [0.2, 0.3, 0.5]
        XCTAssertEqual(OutputComparison.klDivergence(reference: p, candidate: p), 0, accuracy: 1e-12)
    }

    func testKLMatchesHandComputedValue() {
        let p: [Float] = [0.5, 0.5]
        let q: [Float] = [0.9, 0.1]
        let expected = 0.5 * log(0.5 / 0.9) + 0.5 * log(0.5 / 0.1)
        XCTAssertEqual(OutputComparison.klDivergence(reference: p, candidate: q), expected, accuracy: 1e-6)
    }

    func testKLSoftmaxesLogits() {
        let logits: [Float] = [2, -1, 0.5]
        let probabilities = OutputComparison.probabilities(logits)
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-12)
        let asFloats = probabilities.map(Float.init)
        XCTAssertEqual(OutputComparison.klDivergence(reference: logits, candidate: asFloats), 0, accuracy: 1e-6)
        // Logits shifted by a constant are the same distribution.
        XCTAssertEqual(
            OutputComparison.klDivergence(reference: logits, candidate: logits.map { $0 + 100 }), 0, accuracy: 1e-9)
    }

    func testKLIsFiniteWhenCandidateHasZeroWhereReferenceDoesNot() {
        let divergence = OutputComparison.klDivergence(reference: [0.5, 0.5], candidate: [1, 0])
        XCTAssertTrue(divergence.isFinite)
        XCTAssertGreaterThan(divergence, 10)
        // A zero in the reference contributes nothing.
        XCTAssertEqual(OutputComparison.klDivergence(reference: [1, 0], candidate: [0.5, 0.5]), log(2), accuracy: 1e-9)
    }

    func testMaxAbsDifference() {
        XCTAssertEqual(OutputComparison.maxAbsDifference([1, -2, 3], [1.5, 2, 3]), 4)
        XCTAssertEqual(OutputComparison.maxAbsDifference([], []), 0)
        XCTAssertTrue(OutputComparison.maxAbsDifference([1, .nan], [1, 2]).isNaN)
    }
}
