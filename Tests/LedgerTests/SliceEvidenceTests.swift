import Foundation
import Ledger
import ShadowEval
import XCTest

/// Windows carry a class breakdown; the ledger sums it per class, and whole windows per kernel
/// path and per agent device class, into the slices a policy judges.
final class SliceEvidenceTests: LedgerTestCase {
    func testSlicesSumByClassKernelPathAndDeviceClass() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "t", labels: ["device-class": "pi5"], at: Date())
            try fixture.ledger.recordAgentSeen(id: "agent-2", kernelPath: "scalar", agentVersion: "t", labels: [:], at: Date())

            var first = LedgerFixture.window(agent: "agent-1", assignment: assignment, sequence: 0, count: 100, agreements: 98)
            first.agreementByClass = [3: AgreementCounts(samples: 60, agreements: 59), 7: AgreementCounts(samples: 40, agreements: 39)]
            first.labelsByClass = [3: PairedOutcomes(bothRight: 5, onlyReferenceRight: 1), 7: PairedOutcomes(bothRight: 3, bothWrong: 1)]
            var second = LedgerFixture.window(agent: "agent-2", assignment: assignment, sequence: 0, count: 50, agreements: 50)
            second.kernelPath = "scalar"
            second.agreementByClass = [3: AgreementCounts(samples: 50, agreements: 50)]
            XCTAssertEqual(try fixture.ledger.ingest(first), .stored)
            XCTAssertEqual(try fixture.ledger.ingest(second), .stored)
            XCTAssertEqual(try fixture.ledger.ingest(first), .duplicate, "a resent window adds no class rows either")

            let slices = try fixture.ledger.rolloutEvidence(forRollout: rollout.id).slices
            let classThree = try XCTUnwrap(slices[SliceKey(.class, "3")])
            XCTAssertEqual(classThree.samples, 110)
            XCTAssertEqual(classThree.disagreements, 1)
            XCTAssertEqual(classThree.labelled, 6)
            XCTAssertEqual(classThree.referenceOnlyCorrect, 1)
            XCTAssertEqual(classThree.candidateCorrect, 5)
            XCTAssertEqual(slices[SliceKey(.class, "7")]?.samples, 40)
            XCTAssertEqual(slices[SliceKey(.kernelPath, "avx2")]?.samples, 100)
            XCTAssertEqual(slices[SliceKey(.kernelPath, "scalar")]?.disagreements, 0)
            XCTAssertEqual(slices[SliceKey(.deviceClass, "pi5")]?.samples, 100)
            XCTAssertEqual(slices.keys.filter { $0.dimension == .deviceClass }.count, 1, "an agent without the label is in no device slice")
        }
    }

    func testJudgedSlicesAreStoredWithTheirDecision() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let whole = Decision(
                outcome: .stayFP16, metric: "disagreement", n: 5_000, statistic: 0.06, lowerBound: 0.04, upperBound: 0.08,
                confidence: 0.975, policyVersion: "test.1", reason: "slice class 3: lower bound above", shipBelow: 0.01, stayFP16Above: 0.03)
            var slice = whole
            slice.n = 1_200
            try fixture.ledger.recordDecision(whole, slices: [SliceKey(.class, "3"): slice], rolloutID: rollout.id, at: Date())
            let stored = try XCTUnwrap(try fixture.openReader().latestDecision(forRollout: rollout.id))
            XCTAssertEqual(stored.decision, whole)
            XCTAssertEqual(stored.slices, [SliceDecision(slice: SliceKey(.class, "3"), decision: slice)])
            XCTAssertEqual(try fixture.ledger.stageDecisions(forRollout: rollout.id).map(\.id), [stored.id])
        }
    }
}

/// The cost a guard judges: mean latency per sample, and the most memory either model kept resident.
final class CostEvidenceTests: LedgerTestCase {
    func testCostIsMeanLatencyAndLargestResidentMemory() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            var first = LedgerFixture.window(assignment: assignment, sequence: 0, count: 100)
            first.referenceMemoryBytes = 4_000_000
            first.candidateMemoryBytes = 1_000_000
            var second = LedgerFixture.window(agent: "agent-2", assignment: assignment, sequence: 0, count: 100)
            second.referenceMemoryBytes = 4_000_000
            second.candidateMemoryBytes = 1_200_000
            _ = try fixture.ledger.ingest(first)
            _ = try fixture.ledger.ingest(second)
            _ = try fixture.ledger.ingest(LedgerFixture.window(agent: "agent-3", assignment: assignment, sequence: 0, count: 100))
            let cost = try fixture.ledger.rolloutEvidence(forRollout: rollout.id).cost
            XCTAssertEqual(cost.referenceMemoryBytes, 4_000_000)
            XCTAssertEqual(cost.candidateMemoryBytes, 1_200_000, "the heaviest agent counts; unmeasured windows do not")
            XCTAssertEqual(try XCTUnwrap(cost.referenceMeanLatencyMicros), 100, accuracy: 1e-9)
            XCTAssertEqual(try XCTUnwrap(cost.candidateMeanLatencyMicros), 40, accuracy: 1e-9)
        }
    }
}
