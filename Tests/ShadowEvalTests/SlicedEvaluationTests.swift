import XCTest

@testable import ShadowEval

final class SlicedEvaluationTests: XCTestCase {
    private let policy = Policy(
        version: "slices.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95,
        minimumSamples: 500, minimumLabelled: 500,
        slices: SlicePolicy(dimensions: [.deviceClass, .class], minimumSamples: 1000),
        guards: PolicyGuards(maximumLatencyRatio: 1.0),
        bounds: .betaBinomial)  // totals written as counts have no betting process (see BettingBoundsTests)

    private func totals(samples: Int, disagreements: Int) -> EvidenceTotals {
        EvidenceTotals(samples: samples, disagreements: disagreements)
    }

    func testAlphaIsSharedAmongTheWholeAndTheJudgedSlices() {
        let evidence = RolloutEvidence(
            overall: totals(samples: 20_000, disagreements: 20),
            slices: [
                SliceKey(.deviceClass, "pi5"): totals(samples: 10_000, disagreements: 10),
                SliceKey(.deviceClass, "jetson"): totals(samples: 10_000, disagreements: 10),
                SliceKey(.class, "3"): totals(samples: 999, disagreements: 0),  // too little to judge
                SliceKey(.kernelPath, "avx2"): totals(samples: 20_000, disagreements: 20),  // not a policy dimension
            ])
        let result = PolicyEvaluator.decide(evidence, policy: policy)
        XCTAssertEqual(Set(result.slices.keys), [SliceKey(.deviceClass, "pi5"), SliceKey(.deviceClass, "jetson")])
        XCTAssertEqual(result.overall.confidence, 1 - 0.05 / 3, accuracy: 1e-12)
        XCTAssertEqual(result.decision.outcome, .ship)
    }

    func testASliceHoldingEverySampleIsTheWholeAndIsNotJudgedAgain() {
        let evidence = RolloutEvidence(
            overall: totals(samples: 20_000, disagreements: 20),
            slices: [SliceKey(.deviceClass, "pi5"): totals(samples: 20_000, disagreements: 20)])
        let result = PolicyEvaluator.decide(evidence, policy: policy)
        XCTAssertEqual(result.slices, [:])
        XCTAssertEqual(result.overall.confidence, 0.95, accuracy: 1e-12, "no confidence spent on a copy of the whole")
    }

    func testOneBadSliceFailsTheRollout() {
        let evidence = RolloutEvidence(
            overall: totals(samples: 20_000, disagreements: 200),
            slices: [
                SliceKey(.deviceClass, "pi5"): totals(samples: 17_000, disagreements: 0),
                SliceKey(.deviceClass, "jetson"): totals(samples: 3_000, disagreements: 200),
            ])
        let result = PolicyEvaluator.decide(evidence, policy: policy)
        XCTAssertEqual(result.slices[SliceKey(.deviceClass, "jetson")]?.outcome, .stayFP16)
        XCTAssertEqual(result.decision.outcome, .stayFP16)
        XCTAssertTrue(result.decision.reason.hasPrefix("slice device-class jetson: lower bound above"), result.decision.reason)
    }

    func testSlowCandidateBreaksTheLatencyGuard() {
        let evidence = RolloutEvidence(
            overall: totals(samples: 20_000, disagreements: 20),
            cost: CostEvidence(referenceMeanLatencyMicros: 1000, candidateMeanLatencyMicros: 1500))
        let result = PolicyEvaluator.decide(evidence, policy: policy)
        XCTAssertEqual(result.overall.outcome, .ship)
        XCTAssertEqual(result.decision.outcome, .stayFP16)
        XCTAssertEqual(result.brokenGuards, ["candidate latency is 1.5x the reference's, above max-latency-ratio 1.0"])
    }

    func testAHeavyCandidateBreaksTheMemoryGuard() {
        var guarded = policy
        guarded.guards = PolicyGuards(maximumMemoryRatio: 0.5)
        let evidence = RolloutEvidence(
            overall: totals(samples: 20_000, disagreements: 20),
            cost: CostEvidence(referenceMemoryBytes: 1_000_000, candidateMemoryBytes: 600_000))
        let result = PolicyEvaluator.decide(evidence, policy: guarded)
        XCTAssertEqual(result.decision.outcome, .stayFP16)
        XCTAssertEqual(result.brokenGuards, ["candidate memory is 0.6x the reference's, above max-memory-ratio 0.5"])
    }

    /// A slice's own minimum lets it be judged on few samples, but no decision comes before the whole
    /// has `minimum-samples`: a slice can only make a decision more cautious once there is one.
    func testASliceDecidesNothingBeforeTheWholeHasItsMinimum() {
        var early = policy
        early.slices = SlicePolicy(dimensions: [.deviceClass], minimumSamples: 10)
        let badSlice = totals(samples: 200, disagreements: 100)
        let before = PolicyEvaluator.decide(
            RolloutEvidence(overall: totals(samples: 400, disagreements: 100), slices: [SliceKey(.deviceClass, "pi5"): badSlice]),
            policy: early)
        XCTAssertEqual(before.decision.outcome, .collecting)
        XCTAssertEqual(before.slices[SliceKey(.deviceClass, "pi5")]?.outcome, .stayFP16, "judged and recorded all the same")
        let after = PolicyEvaluator.decide(
            RolloutEvidence(overall: totals(samples: 20_000, disagreements: 100), slices: [SliceKey(.deviceClass, "pi5"): badSlice]),
            policy: early)
        XCTAssertEqual(after.decision.outcome, .stayFP16)
        XCTAssertTrue(after.decision.reason.hasPrefix("slice device-class pi5: "), after.decision.reason)
    }

    func testGuardsWaitForMinimumSamples() {
        let evidence = RolloutEvidence(
            overall: totals(samples: 499, disagreements: 0),
            cost: CostEvidence(referenceMeanLatencyMicros: 1000, candidateMeanLatencyMicros: 1500))
        let result = PolicyEvaluator.decide(evidence, policy: policy)
        XCTAssertEqual(result.brokenGuards, [])
        XCTAssertEqual(result.decision.outcome, .collecting)
    }

    func testDecisionsCarryAReason() {
        let ship = PolicyEvaluator.decide(totals(samples: 5000, disagreements: 10), policy: policy)
        XCTAssertTrue(ship.reason.hasPrefix("upper bound below ship-below 1.00 %: 95.00 % bounds ["), ship.reason)
        let early = PolicyEvaluator.decide(totals(samples: 10, disagreements: 0), policy: policy)
        XCTAssertEqual(early.reason, "10 paired samples, fewer than minimum-samples 500")
    }

    func testSlicesAndGuardsLoadFromThePolicyFile() throws {
        let yaml = """
            version: "v2"
            ship-below: 0.01
            stay-fp16-above: 0.03
            confidence: 0.95
            minimum-samples: 2000
            minimum-labelled: 1000
            slices:
              dimensions: [class, device-class]
              minimum-samples: 1000
            guards:
              max-latency-ratio: 1.0
              max-memory-ratio: 0.5
            """
        let loaded = try Policy(yaml: yaml)
        XCTAssertEqual(loaded.slices, SlicePolicy(dimensions: [.class, .deviceClass], minimumSamples: 1000))
        XCTAssertEqual(loaded.guards, PolicyGuards(maximumLatencyRatio: 1.0, maximumMemoryRatio: 0.5))

        let failure = { (from: String, to: String) in
            policyFileError(loading: yaml.replacingOccurrences(of: from, with: to))
        }
        XCTAssertEqual(failure("max-memory-ratio: 0.5", "max-memory-ratio: -1")?.line, 12)
        XCTAssertEqual(failure("max-memory-ratio: 0.5", "max-memory-ratio: -1")?.key, "guards.max-memory-ratio")
        XCTAssertEqual(failure("[class, device-class]", "[class, device]")?.line, 8)
        XCTAssertEqual(failure("max-latency-ratio", "max-latency")?.key, "guards.max-latency")
        XCTAssertEqual(failure("  minimum-samples: 1000", "  minimum-samples: 0")?.key, "slices.minimum-samples")
    }
}

extension SlicedEvaluationTests {
    func testClassSlicesComeFromTheAggregate() {
        var aggregator = WindowAggregator()
        // Reference says 0, candidate says 1, truth is 0: a loss in class 0.
        aggregator.add(reference: [0.9, 0.1], candidate: [0.2, 0.8], label: 0,
                       referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: 1)
        // Both say 1, no label.
        aggregator.add(reference: [0.1, 0.9], candidate: [0.2, 0.8], label: nil,
                       referenceLatencyMicros: 1, candidateLatencyMicros: 1, at: 2)
        let window = aggregator.seal()
        XCTAssertEqual(window.evidence, EvidenceTotals(samples: 2, disagreements: 1, labelled: 1, referenceCorrect: 1,
                                                       referenceOnlyCorrect: 1))
        XCTAssertEqual(window.classSlices[SliceKey(.class, "0")],
                       EvidenceTotals(samples: 1, disagreements: 1, labelled: 1, referenceCorrect: 1, referenceOnlyCorrect: 1))
        XCTAssertEqual(window.classSlices[SliceKey(.class, "1")], EvidenceTotals(samples: 1))
    }
}
