import Foundation
import ShadowEval
import XCTest

@testable import Ledger

/// Late-label deltas (`WindowRecord.isLabelDelta`): stored exactly once like windows, counted in the
/// labelled evidence and its slices but not as windows, verified, rolled up; a window as it came
/// still may not hold more labels than samples.
final class LateLabelDeltaTests: LedgerTestCase {
    private static func delta(sequence: Int64, assignment: String, referenceOnly: Int, candidateOnly: Int, bothRight: Int) -> WindowRecord {
        let labels = PairedOutcomes(bothRight: bothRight, onlyReferenceRight: referenceOnly, onlyCandidateRight: candidateOnly)
        return WindowRecord(
            agentID: "agent-1", assignmentID: assignment, sequence: sequence, kernelPath: "avx2",
            summary: WindowSummary(
                labelled: labels.total, referenceCorrect: bothRight + referenceOnly, candidateCorrect: bothRight + candidateOnly,
                referenceOnlyCorrect: referenceOnly, candidateOnlyCorrect: candidateOnly, startedAtMillis: 5, endedAtMillis: 5),
            labelsByClass: [4: labels], isLabelDelta: true)
    }

    func testADeltaCountsAsLabelsNotAsAWindowAndOnce() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            let windows = (0..<4).map { LedgerFixture.window(assignment: assignment, sequence: Int64($0), count: 100, agreements: 98) }
            _ = try fixture.ledger.ingest(windows)
            let delta = Self.delta(sequence: 4, assignment: assignment, referenceOnly: 3, candidateOnly: 1, bothRight: 50)
            XCTAssertEqual(try fixture.ledger.ingest([delta, delta]), [.stored, .duplicate])

            let evidence = try fixture.ledger.rolloutEvidence(forRollout: rollout.id)
            XCTAssertEqual(evidence.overall.windows, 4, "a delta is no window")
            XCTAssertEqual(evidence.overall.samples, 400)
            XCTAssertEqual(evidence.overall.labelled, 40 + 54, "the windows' own labels and the delta's")
            XCTAssertEqual(evidence.overall.referenceOnlyCorrect, 4 + 3)
            XCTAssertEqual(evidence.overall.candidateOnlyCorrect, 0 + 1)
            XCTAssertEqual(evidence.slices[SliceKey(.class, "4")]?.labelled, 54)
            XCTAssertEqual(evidence.slices[SliceKey(.class, "4")]?.windows, 0)
            let reader = try fixture.openReader()
            XCTAssertEqual(try reader.query("SELECT windows, samples, labelled FROM rollout_evidence").rows, [["4", "400", "94"]])
            XCTAssertEqual(try reader.verifyRunningTotals().mismatches, [])

            // Rolled up with the windows, it still counts the same.
            _ = try fixture.ledger.rollUp(windowsIngestedBefore: Date().addingTimeInterval(60))
            XCTAssertEqual(try fixture.ledger.rolloutEvidence(forRollout: rollout.id), evidence)
            XCTAssertEqual(try fixture.openReader().verifyRunningTotals().mismatches, [])
            XCTAssertEqual(try fixture.ledger.ingest([delta]), [.duplicate])
        }
    }

    func testAWindowAsItCameStillHoldsNoMoreLabelsThanSamples() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id).id
            var window = Self.delta(sequence: 0, assignment: assignment, referenceOnly: 1, candidateOnly: 0, bothRight: 2)
            window.isLabelDelta = false
            XCTAssertThrowsError(try fixture.ledger.ingest([window])) { error in
                XCTAssertTrue("\(error)".contains("labelled"), "\(error)")
            }
        }
    }
}
