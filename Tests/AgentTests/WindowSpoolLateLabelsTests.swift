import Agent
import FleetProtocol
import Foundation
import ShadowEval
import XCTest

/// Late labels in the spool: outcomes wait for their labels within a horizon and a count, a batch
/// of labels becomes one delta per assignment under the next sequence number, atomically and once,
/// through a reopen; deltas go only to a coordinator that takes them and are never merged.
final class WindowSpoolLateLabelsTests: XCTestCase {
    private var directory: URL!
    private var path: String { directory.appendingPathComponent("spool.sqlite").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private static func outcome(_ id: String, row: Int = 0, reference: Int, candidate: Int, at: Int64, assignment: String = "a-1")
        -> WindowSpool.AwaitedLabel
    {
        WindowSpool.AwaitedLabel(
            requestID: id, row: row, assignmentID: assignment, kernelPath: "avx2", referenceClass: reference, candidateClass: candidate,
            answeredAtMillis: at)
    }

    private static func window(count: Int) -> ShadowWindow {
        ShadowWindow(
            WindowSummary(count: count, top1Agreements: count, startedAtMillis: 0, endedAtMillis: 1),
            assignmentID: "a-1", sequence: 0, kernelPath: "avx2")
    }

    func testLabelsBecomeOneDeltaPerAssignmentUnderTheNextSequenceOnce() throws {
        var spool: WindowSpool? = try WindowSpool(path: path)
        _ = try spool!.seal(Self.window(count: 10))  // sequence 0
        XCTAssertEqual(try spool!.awaitLabels([
            Self.outcome("r1", reference: 3, candidate: 3, at: 1_000),
            Self.outcome("r2", reference: 3, candidate: 5, at: 1_000),
            Self.outcome("r3", row: 0, reference: 1, candidate: 1, at: 1_000),
            Self.outcome("r3", row: 1, reference: 4, candidate: 2, at: 1_000),
            Self.outcome("r4", reference: 0, candidate: 0, at: 1_000, assignment: "a-2"),
        ], maxAwaiting: 100), 0)
        spool = nil
        // A restart between the answers and their labels loses nothing.
        let reopened = try WindowSpool(path: path)
        XCTAssertEqual(try reopened.awaitingLabels(), 5)

        let applied = try reopened.applyLabels([
            .init(requestID: "r1", label: 3),            // both right
            .init(requestID: "r2", label: 3),            // only the reference right
            .init(requestID: "r3", row: 1, label: 2),    // only the candidate right
            .init(requestID: "r4", label: 9),            // both wrong, another assignment
            .init(requestID: "nobody", label: 1),
        ], horizonMillis: 60_000, nowMillis: 2_000)
        XCTAssertEqual(applied.accepted, 4)
        XCTAssertEqual(applied.notAwaited, ["nobody"])
        XCTAssertEqual(applied.deltas.map(\.assignmentID), ["a-1", "a-2"])
        let delta = try XCTUnwrap(applied.deltas.first)
        XCTAssertTrue(delta.labelDelta)
        XCTAssertEqual(delta.sequence, 1, "the next number after the window's")
        XCTAssertEqual(delta.count, 0)
        XCTAssertEqual(
            [delta.labelled, delta.referenceCorrect, delta.candidateCorrect, delta.referenceOnlyCorrect, delta.candidateOnlyCorrect],
            [3, 2, 2, 1, 1])
        XCTAssertEqual(delta.labelsByClass, [
            3: PairedOutcomes(bothRight: 1, onlyReferenceRight: 1), 2: PairedOutcomes(onlyCandidateRight: 1),
        ])
        XCTAssertEqual(applied.deltas[1].sequence, 0, "a-2's first")
        XCTAssertEqual(applied.deltas[1].labelsByClass, [9: PairedOutcomes(bothWrong: 1)])

        // Each outcome counts once: the same labels again find nothing waiting.
        let again = try reopened.applyLabels([.init(requestID: "r1", label: 3)], horizonMillis: 60_000, nowMillis: 3_000)
        XCTAssertEqual(again.accepted, 0)
        XCTAssertEqual(again.notAwaited, ["r1"])
        XCTAssertEqual(try reopened.awaitingLabels(), 1, "r3's first row still waits")

        // An older coordinator does not get deltas; one that takes them gets them in order.
        XCTAssertEqual(try reopened.pendingForSending(includingLabelDeltas: false).map(\.sequence), [0])
        XCTAssertEqual(try reopened.pendingForSending(includingLabelDeltas: true).map { "\($0.assignmentID)/\($0.sequence)" }, ["a-1/0", "a-1/1", "a-2/0"])
    }

    func testOutcomesWaitWithinTheHorizonAndTheCount() throws {
        let spool = try WindowSpool(path: path)
        let outcomes = (0..<10).map { Self.outcome("r\($0)", reference: 1, candidate: 1, at: Int64($0) * 1_000) }
        XCTAssertEqual(try spool.awaitLabels(outcomes, maxAwaiting: 8), 2, "the two oldest go")
        let applied = try spool.applyLabels(
            (0..<10).map { .init(requestID: "r\($0)", label: 1) }, horizonMillis: 5_000, nowMillis: 9_500)
        // r0 and r1 were pushed out by the count; r2 to r4 answered more than 5 s before 9.5 s.
        XCTAssertEqual(applied.expired, 3)
        XCTAssertEqual(applied.notAwaited, ["r0", "r1", "r2", "r3", "r4"])
        XCTAssertEqual(applied.accepted, 5)
        XCTAssertEqual(try spool.awaitingLabels(), 0)
    }

    func testDeltasAreNeverMergedIntoWindows() throws {
        let spool = try WindowSpool(path: path, maxPendingBytes: WindowSpool.minimumMaxPendingBytes)
        _ = try spool.awaitLabels([Self.outcome("r1", reference: 2, candidate: 2, at: 0)], maxAwaiting: 10)
        _ = try spool.applyLabels([.init(requestID: "r1", label: 2)], horizonMillis: 60_000, nowMillis: 1)
        var merged = 0
        for _ in 0..<5_000 where merged < 100 { merged += try spool.seal(Self.window(count: 10)).merge?.windowsMerged ?? 0 }
        XCTAssertGreaterThan(merged, 0, "the cap merged windows")
        let pending = try spool.pending()
        XCTAssertEqual(pending.filter(\.labelDelta).map(\.labelled), [1], "the delta is kept as it is")
        XCTAssertTrue(pending.filter { !$0.labelDelta }.allSatisfy { $0.labelled <= $0.count })
    }
}
