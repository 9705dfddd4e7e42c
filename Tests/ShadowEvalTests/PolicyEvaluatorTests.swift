import XCTest

@testable import ShadowEval

final class PolicyEvaluatorTests: XCTestCase {
    /// Totals here are written as counts, with no windows behind them, so they are judged by the
    /// order-free beta-binomial bounds; BettingBoundsTests judge totals built window by window.
    private let policy = Policy(
        version: "test.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
        minimumSamples: 500, minimumLabelled: 500, bounds: .betaBinomial)

    private func decide(samples: Int, disagreements: Int) -> Decision {
        PolicyEvaluator.decide(EvidenceTotals(samples: samples, disagreements: disagreements), policy: policy)
    }

    private func decideLabelled(labelled: Int, losses: Int, gains: Int) -> Decision {
        let totals = EvidenceTotals(
            samples: labelled, disagreements: losses + gains, labelled: labelled,
            referenceOnlyCorrect: losses, candidateOnlyCorrect: gains)
        return PolicyEvaluator.decide(totals, policy: policy)
    }

    /// With `subtract-noise-floor`, what the reference disagrees with itself on another kernel path
    /// is not charged to the candidate: 2.5 % disagreement over a 2 % floor ships at a 1 % band.
    func testTheNoiseFloorIsSubtractedWhenThePolicySaysSo() throws {
        let totals = EvidenceTotals(samples: 200_000, disagreements: 5_000, floorSamples: 200_000, floorDisagreements: 4_000)
        XCTAssertEqual(PolicyEvaluator.decide(totals, policy: policy).outcome, .needsQAT, "the whole 2.5 % is charged")
        var subtracting = policy
        subtracting.subtractsNoiseFloor = true
        let decision = PolicyEvaluator.decide(totals, policy: subtracting)
        XCTAssertEqual(decision.metric, DecisionMetric.excessDisagreement.rawValue)
        XCTAssertEqual(decision.statistic, 0.005, accuracy: 1e-12)
        XCTAssertEqual(decision.outcome, .ship)
        XCTAssertLessThan(decision.lowerBound, 0.005)
        let noFloor = EvidenceTotals(samples: 200_000, disagreements: 1_000)
        XCTAssertEqual(PolicyEvaluator.decide(noFloor, policy: subtracting).metric, DecisionMetric.disagreement.rawValue,
                       "without floor samples there is nothing to subtract")
        XCTAssertTrue(try Policy(yaml: "version: v\nship-below: 0.01\nstay-fp16-above: 0.03\nconfidence: 0.95\n"
            + "minimum-samples: 10\nminimum-labelled: 10\nsubtract-noise-floor: true\n").subtractsNoiseFloor)
    }

    /// With `require-labels`, disagreement decides nothing: a stage waits for its labels (which
    /// may come late, from reviewers), then the labelled drop decides.
    func testRequireLabelsWaitsForTheLabelsWhateverTheDisagreement() throws {
        var waiting = policy
        waiting.requiresLabels = true
        let unlabelled = EvidenceTotals(samples: 20_000, disagreements: 400)
        XCTAssertEqual(PolicyEvaluator.decide(unlabelled, policy: policy).outcome, .needsQAT, "disagreement alone decides")
        let held = PolicyEvaluator.decide(unlabelled, policy: waiting)
        XCTAssertEqual(held.outcome, .collecting)
        XCTAssertEqual(held.reason, "0 labelled samples, fewer than minimum-labelled 500, which require-labels waits for")
        XCTAssertEqual(PolicyEvaluator.outcome(unlabelled, policy: waiting), .collecting, "the simulations' path too")
        let labelled = EvidenceTotals(
            samples: 20_000, disagreements: 400, labelled: 5_000, referenceCorrect: 4_500, candidateCorrect: 4_500,
            referenceOnlyCorrect: 2, candidateOnlyCorrect: 2)
        XCTAssertEqual(PolicyEvaluator.decide(labelled, policy: waiting).outcome, .ship)
        XCTAssertTrue(try Policy(yaml: "version: v\nship-below: 0.01\nstay-fp16-above: 0.03\nconfidence: 0.95\n"
            + "minimum-samples: 10\nminimum-labelled: 10\nrequire-labels: true\n").requiresLabels)
    }

    func testTooFewSamplesIsCollectingEvenWithPerfectAgreement() {
        let decision = decide(samples: 499, disagreements: 0)
        XCTAssertEqual(decision.outcome, .collecting)
        XCTAssertEqual(decision.n, 499)
    }

    func testSmallDisagreementShips() {
        let decision = decide(samples: 5000, disagreements: 10)
        XCTAssertEqual(decision.outcome, .ship)
        XCTAssertEqual(decision.metric, "disagreement")
        XCTAssertEqual(decision.statistic, 0.002, accuracy: 1e-12)
        XCTAssertLessThan(decision.upperBound, 0.01)
        XCTAssertEqual(decision.confidence, 0.95)
        XCTAssertEqual(decision.policyVersion, "test.1")
    }

    func testLargeDisagreementStaysOnFP16() {
        let decision = decide(samples: 5000, disagreements: 500)
        XCTAssertEqual(decision.outcome, .stayFP16)
        XCTAssertGreaterThan(decision.lowerBound, 0.03)
    }

    func testDisagreementInsideTheBandNeedsQAT() {
        let decision = decide(samples: 20000, disagreements: 400)
        XCTAssertEqual(decision.outcome, .needsQAT)
        XCTAssertGreaterThanOrEqual(decision.lowerBound, 0.01)
        XCTAssertLessThanOrEqual(decision.upperBound, 0.03)
    }

    func testIntervalStraddlingAThresholdKeepsCollecting() {
        let decision = decide(samples: 1000, disagreements: 15)
        XCTAssertEqual(decision.outcome, .collecting)
        XCTAssertLessThan(decision.lowerBound, 0.01)
        XCTAssertGreaterThan(decision.upperBound, 0.03)
    }

    func testLabelledEvidenceReplacesDisagreementOnceThereIsEnough() {
        // 110 disagreements in 20000 would bound the drop by disagreement alone at about 0.7 %;
        // the labelled drop is centred near zero.
        let decision = decideLabelled(labelled: 20000, losses: 60, gains: 50)
        XCTAssertEqual(decision.metric, "labelled-accuracy-drop")
        XCTAssertEqual(decision.n, 20000)
        XCTAssertEqual(decision.statistic, 10.0 / 20000, accuracy: 1e-12)
        XCTAssertLessThan(decision.lowerBound, 0)
        XCTAssertEqual(decision.outcome, .ship)
    }

    func testLabelledBranchesStayAndNeedsQAT() {
        XCTAssertEqual(decideLabelled(labelled: 10000, losses: 500, gains: 40).outcome, .stayFP16)
        XCTAssertEqual(decideLabelled(labelled: 10000, losses: 250, gains: 30).outcome, .needsQAT)
    }

    func testLabelledBoundsCombineTheTwoRatesAtHalfAlpha() {
        let decision = decideLabelled(labelled: 10000, losses: 250, gains: 30)
        let sequence = BetaBinomialConfidenceSequence.rolloutDefault
        let losses = sequence.interval(successes: 250, trials: 10000, alpha: 0.025)
        let gains = sequence.interval(successes: 30, trials: 10000, alpha: 0.025)
        XCTAssertEqual(decision.upperBound, losses.upperBound - gains.lowerBound, accuracy: 1e-15)
        XCTAssertEqual(decision.lowerBound, losses.lowerBound - gains.upperBound, accuracy: 1e-15)
    }

    func testTooFewLabelsFallsBackToDisagreement() {
        let totals = EvidenceTotals(samples: 5000, disagreements: 10, labelled: 499, referenceOnlyCorrect: 5)
        XCTAssertEqual(PolicyEvaluator.decide(totals, policy: policy).metric, "disagreement")
    }

    func testNoEvidenceAtAll() {
        let decision = decide(samples: 0, disagreements: 0)
        XCTAssertEqual(decision.outcome, .collecting)
        XCTAssertEqual(decision.lowerBound, 0)
        XCTAssertEqual(decision.upperBound, 1)
    }

    func testOnlyCollectingIsNotFinal() {
        XCTAssertEqual(Outcome.allCases.filter(\.isFinal), [.ship, .needsQAT, .stayFP16])
    }
}
