import Foundation
import GRDB
import ShadowEval
import XCTest

@testable import Ledger

/// The running totals (migration v5): kept in the transaction that stores each window, equal to the
/// SQL re-sum of the windows, checked by `TotalsVerification` (`quantfleet ledger verify`).
final class RunningTotalsTests: LedgerTestCase {
    func testRunningTotalsEqualTheResumOfEveryPart() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "t", labels: ["device-class": "pi5"], at: Date())
            try fixture.ledger.recordAgentSeen(id: "agent-2", kernelPath: "scalar", agentVersion: "t", labels: [:], at: Date())
            let windows = (0..<40).map { Self.window(number: $0, assignment: assignment) }
            // In batches of different sizes, with resends inside and across batches.
            _ = try fixture.ledger.ingest(Array(windows[0..<7]))
            _ = try fixture.ledger.ingest(Array(windows[5..<30]) + [windows[12]])
            for window in windows[28...] { _ = try fixture.ledger.ingest(window) }

            var expected = RunningTotals()
            for window in windows {
                expected.append(window.runningTotals(deviceClass: window.agentID == "agent-1" ? "pi5" : nil))
            }
            let evidence = try fixture.ledger.rolloutEvidence(forRollout: rollout.id)
            XCTAssertEqual(evidence, expected.evidence)
            XCTAssertEqual(evidence.overall.windows, 40)
            XCTAssertEqual(Set(evidence.slices.keys.map(\.dimension)), [.class, .deviceClass, .kernelPath])
            XCTAssertEqual(try fixture.ledger.rolloutEvidence(forRollout: rollout.id, stage: 0), evidence)

            let reader = try fixture.openReader()
            XCTAssertEqual(try reader.measures(forRollout: rollout.id).measures, expected.measures)
            let verification = try reader.verifyRunningTotals()
            XCTAssertEqual(verification.mismatches, [])
            XCTAssertEqual(verification.stagesChecked, 1)
            XCTAssertEqual(verification.windowsChecked, 40)
            let stage = StageKey(rolloutID: rollout.id, stage: 0)
            let (resummed, replayed) = try fixture.ledger.store.read { db in
                (try WindowResum.totals(db, stage: stage), try WindowReplay.evidence(db, stage: stage))
            }
            // The betting processes depend on the windows' order, which only the replay follows.
            XCTAssertEqual(replayed, RunningTotals(overall: expected.overall, slices: expected.slices))
            XCTAssertFalse(expected.overall.bets.isEmpty)
            var counted = expected
            counted.overall.bets = EvidenceTotals.Bets()
            for key in counted.slices.keys { counted.slices[key]!.bets = EvidenceTotals.Bets() }
            XCTAssertEqual(resummed, counted)
        }
    }

    /// Batches start from the stored betting processes: the same windows ingested in one batch, or one
    /// by one, give the same processes, and verification catches a process that does not match.
    func testBettingProcessesDoNotDependOnBatchingAndAreVerified() throws {
        let windows = (0..<12).map { Self.window(number: $0, assignment: "") }
        var evidence: [RolloutEvidence] = []
        for engine in LedgerEngine.allCases {
            for batchSize in [12, 1, 5] {
                let fixture = try LedgerFixture(engine)
                defer { fixture.remove() }
                let rollout = try fixture.makeRollout()
                let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
                let ours = windows.map { window in
                    var copy = window
                    copy.assignmentID = assignment
                    return copy
                }
                for start in stride(from: 0, to: ours.count, by: batchSize) {
                    _ = try fixture.ledger.ingest(Array(ours[start..<min(start + batchSize, ours.count)]))
                }
                evidence.append(try fixture.ledger.rolloutEvidence(forRollout: rollout.id))
                if batchSize == 5 {
                    try fixture.ledger.store.write { db in
                        try db.execute(sql: "UPDATE slice_totals SET bets = '' WHERE dimension = 'kernel-path' AND value = 'scalar'")
                    }
                    let mismatches = try fixture.openReader().verifyRunningTotals().mismatches
                    XCTAssertEqual(mismatches.map(\.part), ["slice kernel-path scalar"])
                    XCTAssertTrue(mismatches.first?.difference.hasPrefix("bets is ") ?? false, "\(mismatches)")
                }
            }
        }
        XCTAssertEqual(evidence.count, 6)
        XCTAssertTrue(evidence.allSatisfy { $0 == evidence[0] }, "the same processes on both engines, whatever the batches")
    }

    /// Ingest keeps its totals between batches. A batch that fails leaves nothing of itself in them,
    /// and windows another connection stored (a second ledger on the file) are read back, not missed.
    func testKeptTotalsFollowFailedBatchesAndOtherWriters() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            let windows = (0..<30).map { Self.window(number: $0, assignment: assignment) }
            _ = try fixture.ledger.ingest(Array(windows[0..<10]))
            var unknown = windows[10]
            unknown.assignmentID = "no-such-assignment"
            XCTAssertThrowsError(try fixture.ledger.ingest([windows[10], unknown]))
            let other = try fixture.reopen()
            _ = try other.ingest(Array(windows[10..<20]))
            _ = try fixture.ledger.ingest(Array(windows[20..<30]))

            var expected = RunningTotals()
            for window in windows { expected.append(window.runningTotals(deviceClass: nil)) }
            XCTAssertEqual(try fixture.ledger.rolloutEvidence(forRollout: rollout.id), expected.evidence)
            let verification = try fixture.openReader().verifyRunningTotals()
            XCTAssertEqual(verification.mismatches, [])
            XCTAssertEqual(verification.windowsChecked, 30)
        }
    }

    /// Windows are numbered 1, 2, 3, ... as stored; a resend takes no number, and a stage's windows
    /// read back one by one in that order (what betting bounds replay).
    func testWindowsAreNumberedInIngestOrder() throws {
        try onEachEngine { fixture in
            let assignment = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id).id
            _ = try fixture.ledger.ingest([
                LedgerFixture.window(agent: "agent-2", assignment: assignment, sequence: 9),
                LedgerFixture.window(agent: "agent-1", assignment: assignment, sequence: 3),
            ])
            _ = try fixture.ledger.ingest(LedgerFixture.window(agent: "agent-2", assignment: assignment, sequence: 9))
            _ = try fixture.ledger.ingest(LedgerFixture.window(agent: "agent-1", assignment: assignment, sequence: 1))
            let reader = try fixture.openReader()
            let rows = try reader.query("SELECT ingest_order, agent_id, sequence FROM windows WHERE assignment_id = '\(assignment)' ORDER BY ingest_order")
            XCTAssertEqual(rows.rows, [["1", "agent-2", "9"], ["2", "agent-1", "3"], ["3", "agent-1", "1"]])
            XCTAssertEqual(try reader.query("SELECT through_ingest_order FROM stage_totals").rows, [["3"]])
        }
    }

    /// A window counts in the device class its agent had when the window arrived.
    func testDeviceClassIsTheAgentsAtIngest() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "t", labels: ["device-class": "pi4"], at: Date())
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment, sequence: 1, count: 30, agreements: 30))
            try fixture.ledger.recordAgentSeen(id: "agent-1", kernelPath: "avx2", agentVersion: "t", labels: ["device-class": "pi5"], at: Date())
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment, sequence: 2, count: 20, agreements: 20))
            let slices = try fixture.ledger.rolloutEvidence(forRollout: rollout.id).slices
            XCTAssertEqual(slices[SliceKey(.deviceClass, "pi4")]?.samples, 30)
            XCTAssertEqual(slices[SliceKey(.deviceClass, "pi5")]?.samples, 20)
            XCTAssertTrue(try fixture.openReader().verifyRunningTotals().passed)
        }
    }

    func testVerificationNamesTheStagePartAndNumbersThatDiffer() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            _ = try fixture.ledger.ingest((0..<3).map { Self.window(number: $0, assignment: assignment) })
            try fixture.ledger.store.write { db in
                try db.execute(sql: "UPDATE slice_totals SET samples = samples + 5 WHERE dimension = 'class' AND value = '3'")
                try db.execute(sql: "UPDATE stage_totals SET candidate_memory_bytes = 1")
            }
            let mismatches = try fixture.openReader().verifyRunningTotals().mismatches.map(\.description)
            XCTAssertEqual(mismatches, [
                "rollout \(rollout.id) stage 1, cost: candidateMemoryBytes is 1 in the running totals, 1200000 in the windows",
                "rollout \(rollout.id) stage 1, slice class 3: samples is 185 in the running totals, 180 in the windows",
            ])
        }
    }

    func testVerificationFindsWindowsWithoutTotals() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id).id
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment, sequence: 1, count: 10, agreements: 10))
            try fixture.ledger.store.write { db in try db.execute(sql: "DELETE FROM stage_totals") }
            let mismatches = try fixture.openReader().verifyRunningTotals().mismatches.map(\.description)
            XCTAssertTrue(mismatches.contains { $0.hasPrefix(
                "rollout \(rollout.id) stage 1, whole: windows is 0 in the running totals, 1 in the windows; samples is 0 in the running totals, 10 in the windows;")
            }, "\(mismatches)")
            XCTAssertTrue(mismatches.contains(
                "rollout \(rollout.id) stage 1, ingest order: the totals run through window 0 in ingest order, the stage's last window is 1"),
                "\(mismatches)")
        }
    }

    /// A window with every part the totals keep: classes, floor, memory, measures and sketches.
    static func window(number: Int, assignment: String) -> WindowRecord {
        var window = LedgerFixture.window(
            agent: number % 3 == 0 ? "agent-2" : "agent-1", assignment: assignment, sequence: Int64(number), count: 100,
            agreements: 95 + number % 5, labelled: 10, referenceOnly: number % 2, candidateOnly: number % 3 == 1 ? 1 : 0)
        window.kernelPath = number % 3 == 0 ? "scalar" : "avx2"
        window.agreementByClass = [3: AgreementCounts(samples: 60, agreements: 58 + number % 3), 7: AgreementCounts(samples: 40, agreements: 40)]
        window.labelsByClass = [3: PairedOutcomes(bothRight: 4, onlyReferenceRight: number % 2, bothWrong: 1), 9: PairedOutcomes(bothRight: 2)]
        window.floor = AgreementCounts(samples: 5, agreements: 5 - number % 2)
        window.referenceMemoryBytes = 4_000_000
        window.candidateMemoryBytes = 1_000_000 + 100_000 * (number % 3)
        var sketches = WindowSketches()
        for sample in 0..<5 {
            sketches.referenceLatencyMicros.record(Double(100 + 10 * number + sample))
            sketches.candidateLatencyMicros.record(Double(40 + number))
            sketches.klDivergences.record(sample == 0 ? 0 : 0.001 * Double(sample))
        }
        window.measures = WindowMeasures(
            marginFlips: number % 4, topFiveSharedClasses: 480 + number, neighbours: AgreementCounts(), sketches: sketches)
        return window
    }
}
