import Foundation
import Ledger
import ShadowEval
import XCTest

@testable import Coordinator

/// The coordinator's ledger writes: windows from many sessions at once committed in batches, each
/// caller answered only once its window is committed, all on the ledger's own thread. Real SQLite.
final class LedgerWriterTests: XCTestCase {
    func testConcurrentWindowsAreCommittedInBatchesAndAnsweredOnlyOnceStored() async throws {
        let fixture = try WriterFixture(for: self)
        let reader = try Ledger.openReadOnly(path: fixture.ledger.path)
        let (agents, windowsEach) = (20, 25)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 0..<agents {
                group.addTask {
                    for sequence in 0..<windowsEach {
                        let window = fixture.window(agent: "agent-\(agent)", sequence: sequence)
                        let result = try await fixture.writer.ingest(window)
                        XCTAssertEqual(result, .stored)
                        let stored = try reader.query(
                            "SELECT COUNT(*) FROM windows WHERE agent_id = 'agent-\(agent)' AND sequence = \(sequence)").rows
                        XCTAssertEqual(stored, [["1"]], "answered before its commit")
                    }
                }
            }
            try await group.waitForAll()
        }
        let resent = try await fixture.writer.ingest(fixture.window(agent: "agent-3", sequence: 7))
        XCTAssertEqual(resent, .duplicate)
        XCTAssertEqual(try reader.query("SELECT COUNT(*), MAX(ingest_order) FROM windows").rows, [["500", "500"]])
        XCTAssertTrue(try reader.verifyRunningTotals().passed)
        let batches = try XCTUnwrap(fixture.metric("quantfleet_coordinator_window_batches_total"))
        XCTAssertLessThan(batches, agents * windowsEach, "windows that arrive together share a transaction")
        print("\(agents * windowsEach) windows from \(agents) concurrent sessions in \(batches) transactions")
    }

    /// With a commit interval, windows that arrive within it share the next transaction, while a
    /// window that finds the writer idle for longer is committed at once.
    func testACommitIntervalGathersWindowsAndKeepsALoneOneWaitingForNothing() async throws {
        let interval = Duration.seconds(2)
        let fixture = try WriterFixture(for: self, minimumCommitInterval: interval)
        let batches = { fixture.metric("quantfleet_coordinator_window_batches_total") ?? 0 }
        let lone = ContinuousClock.now
        _ = try await fixture.writer.ingest(fixture.window(agent: "agent-0", sequence: 0))
        XCTAssertLessThan(ContinuousClock.now - lone, interval / 2, "the first commit starts at once")
        XCTAssertEqual(batches(), 1)
        // These arrive within the interval of the first commit: they wait for its end, together.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 1...30 {
                group.addTask { _ = try await fixture.writer.ingest(fixture.window(agent: "agent-\(agent)", sequence: 0)) }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(batches(), 2, "30 windows within one interval, one transaction")
        try await Task.sleep(for: interval + .milliseconds(100))
        let idle = ContinuousClock.now
        _ = try await fixture.writer.ingest(fixture.window(agent: "agent-0", sequence: 1))
        XCTAssertLessThan(ContinuousClock.now - idle, interval / 2, "a writer idle for longer than the interval commits at once")
        XCTAssertEqual(batches(), 3)
        XCTAssertTrue(try Ledger.openReadOnly(path: fixture.ledger.path).verifyRunningTotals().passed)
    }

    func testABadWindowFailsAloneAndTheOthersAreStored() async throws {
        let fixture = try WriterFixture(for: self)
        var inconsistent = fixture.window(agent: "agent-bad", sequence: 1)
        inconsistent.summary.top1Agreements = inconsistent.summary.count + 1
        let windows = (0..<30).map { $0 == 13 ? inconsistent : fixture.window(agent: "agent-\($0)", sequence: 1) }
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for window in windows {
                group.addTask { (window.agentID, (try? await fixture.writer.ingest(window)) == .stored) }
            }
            return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        XCTAssertEqual(outcomes.filter { !$0.value }.map(\.key), ["agent-bad"])
        let reader = try Ledger.openReadOnly(path: fixture.ledger.path)
        XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM windows").rows, [["29"]])
        XCTAssertTrue(try reader.verifyRunningTotals().passed)
    }

    func testAReconnectingFleetsHellosShareTransactionsAndEachIsAnsweredOnlyOnceStored() async throws {
        let fixture = try WriterFixture(for: self)
        let reader = try Ledger.openReadOnly(path: fixture.ledger.path)
        let agents = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 0..<agents {
                group.addTask {
                    let id = "agent-\(agent)"
                    try await fixture.writer.record(AgentHello(
                        agentID: id, kernelPath: "avx2", agentVersion: "t", labels: ["device-class": "pi5"], at: Date()))
                    XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM agents WHERE id = '\(id)'").rows, [["1"]], "answered before its commit")
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM agents").rows, [["\(agents)"]])
        let batches = try XCTUnwrap(fixture.metric("quantfleet_coordinator_hello_batches_total"))
        XCTAssertLessThan(batches, agents / 4, "Hellos that arrive together share a transaction")
        print("\(agents) Hellos in \(batches) transactions")

        // A window's device class comes from its agent's Hello, committed before it.
        _ = try await fixture.writer.ingest(fixture.window(agent: "agent-7", sequence: 1))
        XCTAssertEqual(try reader.query("SELECT device_class FROM windows WHERE agent_id = 'agent-7'").rows, [["pi5"]])
    }

    /// Sessions ask per window whether its assignment exists and its agent belongs to the stage, on
    /// their own thread.
    func testAssignmentsInTheLedgerAreKnownOthersAreNot() throws {
        let fixture = try WriterFixture(for: self)
        XCTAssertEqual(try fixture.controller.standing(ofAgent: "agent-1", inAssignment: fixture.assignmentID), .member)
        XCTAssertEqual(try fixture.controller.standing(ofAgent: "agent-1", inAssignment: fixture.assignmentID), .member, "remembered")
        XCTAssertEqual(try fixture.controller.standing(ofAgent: "agent-1", inAssignment: "a-000000000000"), .unknown)
    }

    /// A staged rollout's stage counts its members' windows only: an agent outside the stage that
    /// names its assignment is refused, not counted into the stage's evidence.
    func testAWindowFromAnAgentOutsideTheStageIsNotCounted() throws {
        let fixture = try WriterFixture(for: self)
        let ledger = fixture.ledger
        for agent in ["agent-1", "agent-2"] {
            try ledger.recordAgentSeen(id: agent, kernelPath: "avx2", agentVersion: "test", labels: [:], at: Date())
        }
        let rollout = try ledger.createStagedRollout(
            StagedRolloutRequest(
                modelName: "digits-staged", referenceSHA256: String(repeating: "a", count: 64),
                candidateSHA256: String(repeating: "b", count: 64), samplingRate: 1, windowSize: 10, windowMaxAgeMillis: 500,
                policyVersion: "writer.1", target: [:], stages: [50, 100]),
            actor: "operator:test")
        try ledger.enroll(agentIDs: ["agent-1"], rolloutID: rollout.id, stage: 0)
        let stageZero = try ledger.assignment(forRollout: rollout.id, stage: 0).id
        XCTAssertEqual(try fixture.controller.standing(ofAgent: "agent-1", inAssignment: stageZero), .member)
        XCTAssertEqual(
            try fixture.controller.standing(ofAgent: "agent-2", inAssignment: stageZero), .notMember(rolloutID: rollout.id, stage: 0))
    }

    func testWritesAndEvaluationsRunOnTheLedgerThread() async throws {
        let fixture = try WriterFixture(for: self)
        let executor = fixture.controller.executor
        XCTAssertFalse(executor.isCurrent)
        let writerOnLedgerThread = try await fixture.writer.perform { _ in executor.isCurrent }
        XCTAssertTrue(writerOnLedgerThread)
        let controllerOnLedgerThread = await fixture.controller.runsOnLedgerThread()
        XCTAssertTrue(controllerOnLedgerThread)
    }
}

extension RolloutController {
    fileprivate func runsOnLedgerThread() -> Bool { executor.isCurrent }
}
