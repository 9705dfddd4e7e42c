import XCTest

@testable import ShadowEval

final class NoiseFloorTests: XCTestCase {
    func testExcessDisagreementSubtractsTheReferencesOwnFlips() {
        let candidate = AgreementCounts(samples: 20_000, agreements: 19_600)  // 2 % disagreement
        let floor = AgreementCounts(samples: 20_000, agreements: 19_800)  // 1 % the reference makes by itself
        let sequence = BetaBinomialConfidenceSequence.rolloutDefault
        let excess = NoiseFloor.excess(
            candidate: sequence.interval(successes: candidate.disagreements, trials: candidate.samples, alpha: 0.025),
            floor: sequence.interval(successes: floor.disagreements, trials: floor.samples, alpha: 0.025))
        XCTAssertTrue(excess.contains(0.01))
        XCTAssertLessThan(excess.upperBound, 0.02)
        let expectedUpper = sequence.interval(successes: 400, trials: 20_000, alpha: 0.025).upperBound
            - sequence.interval(successes: 200, trials: 20_000, alpha: 0.025).lowerBound
        XCTAssertEqual(excess.upperBound, expectedUpper, accuracy: 1e-15)
    }
}
