import Foundation
import ShadowEval
import XCTest

@testable import Ledger

/// Staged rollouts in the ledger (migration v2): plans, state changes with their history, sticky
/// membership, one open rollout per agent, and evidence per stage.
final class StageLedgerTests: LedgerTestCase {
    private func request(stages: [Int] = [5, 25, 100], target: [String: String] = ["site": "north"]) -> StagedRolloutRequest {
        StagedRolloutRequest(
            modelName: "digits", referenceSHA256: LedgerFixture.referenceSHA256, candidateSHA256: LedgerFixture.candidateSHA256,
            samplingRate: 1, windowSize: 10, windowMaxAgeMillis: 500, policyVersion: "test.1", target: target, stages: stages)
    }

    func testCreateStoresThePlanAndRefusesBadStagesAndASecondOpenRollout() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.ledger.createStagedRollout(request(), actor: "operator:ada")
            let plan = try XCTUnwrap(fixture.ledger.plan(forRollout: rollout.id))
            XCTAssertEqual(plan.state, .created)
            XCTAssertEqual(plan.stages, [5, 25, 100])
            XCTAssertEqual(plan.target, ["site": "north"])
            XCTAssertEqual(plan.stage, 0)
            XCTAssertEqual(try fixture.ledger.events(forRollout: rollout.id).map(\.actor), ["operator:ada"])

            for (stages, reason) in [([Int](), "at least one"), ([5, 5, 100], "grow strictly"), ([5, 50], "must be 100"), ([0, 100], "from 1 to 100")] {
                XCTAssertThrowsError(try fixture.ledger.createStagedRollout(request(stages: stages), actor: "operator:ada")) {
                    XCTAssertTrue("\($0)".contains(reason), "\($0)")
                }
            }
            XCTAssertThrowsError(try fixture.ledger.createStagedRollout(request(), actor: "operator:ada")) {
                XCTAssertEqual($0 as? LedgerError, .rolloutAlreadyOpen(id: rollout.id))
            }
            XCTAssertNil(plan.minimumAgentVersion, "any version unless asked")
        }
    }

    func testAPlanKeepsItsMinimumAgentVersion() throws {
        try onEachEngine { fixture in
            var versioned = request()
            versioned.minimumAgentVersion = ReleaseVersion("0.10.2")
            let rollout = try fixture.ledger.createStagedRollout(versioned, actor: "operator:ada")
            XCTAssertEqual(try fixture.ledger.plan(forRollout: rollout.id)?.minimumAgentVersion, ReleaseVersion("0.10.2"))
            XCTAssertEqual(try fixture.ledger.openPlans().map(\.minimumAgentVersion), [ReleaseVersion("0.10.2")])
            XCTAssertTrue(try fixture.ledger.events(forRollout: rollout.id)[0].reason.hasSuffix("agents of version 0.10.2 or later"))
        }
    }

    func testReleaseVersionsCompareAsNumbersAndAnythingElseIsNone() {
        XCTAssertLessThan(ReleaseVersion("0.9.3")!, ReleaseVersion("0.10.0")!)
        XCTAssertLessThan(ReleaseVersion("1.2.3")!, ReleaseVersion("1.2.10")!)
        XCTAssertEqual(ReleaseVersion("2.0.0"), ReleaseVersion("2.0.0"))
        XCTAssertEqual(ReleaseVersion("0.2.0")?.description, "0.2.0")
        for text in ["", "1", "1.2", "1.2.3.4", "1.2.x", "v1.2.3", "1..3", "-1.2.3", "quantfleet-loadgen", "1.2.3-beta", "１.２.３"] {
            XCTAssertNil(ReleaseVersion(text), text)
        }
    }

    func testStateChangesAreCheckedAndRecordedWithWhoAndWhy() throws {
        try onEachEngine { fixture in
            let id = try fixture.ledger.createStagedRollout(request(), actor: "operator:ada").id
            XCTAssertThrowsError(
                try fixture.ledger.changeState(rolloutID: id, from: [.running], to: .paused, actor: "operator:ada", action: "pause", reason: "")
            ) { XCTAssertEqual("\($0)", "ledger: rollout \(id) is created; it cannot pause from there") }
            try fixture.ledger.changeState(rolloutID: id, from: [.created], to: .running, actor: "operator:ada", action: "start", reason: "go")
            let closed = try fixture.ledger.changeState(
                rolloutID: id, from: [.running], to: .aborted, actor: "operator:bob", action: "abort", reason: "wrong candidate")
            XCTAssertEqual(closed.state, .aborted)
            let rollout = try fixture.ledger.rollout(id: id)
            XCTAssertEqual(rollout.status, .decided, "a closed plan closes the rollout, so another may open")
            XCTAssertEqual(rollout.outcome, .stayFP16, "an aborted rollout leaves the reference primary")
            XCTAssertEqual(
                try fixture.ledger.events(forRollout: id).map { "\($0.actor) \($0.action) \($0.reason)" },
                ["operator:ada create stages [5, 25, 100] of target {\"site\":\"north\"}", "operator:ada start go",
                 "operator:bob abort wrong candidate"])
        }
    }

    func testMembersAreStickyAndAnAgentIsInOneOpenRolloutPerModelNameAtATime() throws {
        try onEachEngine { fixture in
            for id in ["agent-1", "agent-2"] {
                try fixture.ledger.recordAgentSeen(id: id, kernelPath: "avx2", agentVersion: "0.1", labels: ["site": "north"], at: Date())
            }
            XCTAssertEqual(try fixture.ledger.agents().map(\.labels), [["site": "north"], ["site": "north"]])
            let first = try fixture.ledger.createStagedRollout(request(), actor: "operator:ada").id
            try fixture.ledger.changeState(rolloutID: first, from: [.created], to: .running, actor: "operator:ada", action: "start", reason: "")
            try fixture.ledger.enroll(agentIDs: ["agent-1"], rolloutID: first, stage: 0)
            try fixture.ledger.advanceStage(rolloutID: first, actor: "controller", reason: "ship")
            try fixture.ledger.enroll(agentIDs: ["agent-1", "agent-2"], rolloutID: first, stage: 1)
            XCTAssertEqual(try fixture.ledger.members(ofRollout: first).map { "\($0.agentID)@\($0.stage)" }, ["agent-1@0", "agent-2@1"])

            try fixture.ledger.registerModel(ModelRecord(
                sha256: String(repeating: "d", count: 64), name: "digits", precision: "int4", sizeBytes: 500, registeredAt: Date()))
            var other = request()
            other.candidateSHA256 = String(repeating: "d", count: 64)
            let second = try fixture.ledger.createStagedRollout(other, actor: "operator:ada").id
            XCTAssertThrowsError(try fixture.ledger.enroll(agentIDs: ["agent-2"], rolloutID: second, stage: 0)) {
                XCTAssertEqual($0 as? LedgerError, .agentInAnotherRollout(agentID: "agent-2", rolloutID: first, modelName: "digits"))
            }

            // A rollout of another model name takes the same agent: each name has its own rollout.
            var detector = request()
            detector.modelName = "detector"
            let third = try fixture.ledger.createStagedRollout(detector, actor: "operator:ada").id
            try fixture.ledger.enroll(agentIDs: ["agent-2"], rolloutID: third, stage: 0)
            XCTAssertEqual(try fixture.ledger.openRollouts(ofAgent: "agent-2"), ["digits": first, "detector": third])
            XCTAssertEqual(try fixture.ledger.latestPlans(ofAgent: "agent-2").map(\.modelName), ["detector", "digits"], "newest first, one per name")
            XCTAssertEqual(try fixture.ledger.latestPlans(ofAgent: "agent-1").map(\.rolloutID), [first])
        }
    }

    /// Ingest keeps a bounded number of stages' totals between batches; a stage dropped from memory
    /// is read back from its rows, so the totals stay exact.
    func testTotalsOfStagesDroppedFromMemoryAreReadBackExactly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kept-stages-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = try Ledger(path: directory.appendingPathComponent("ledger.sqlite").path, keptStages: 1)
        try ledger.acquireControllerTerm(holder: "ledger-tests", lasting: .seconds(3600))
        for (sha256, precision) in [(LedgerFixture.referenceSHA256, "fp16"), (LedgerFixture.candidateSHA256, "int8")] {
            try ledger.registerModel(ModelRecord(sha256: sha256, name: "digits", precision: precision, sizeBytes: 1, registeredAt: Date()))
        }
        let id = try ledger.createStagedRollout(request(), actor: "operator:ada").id
        try ledger.changeState(rolloutID: id, from: [.created], to: .running, actor: "operator:ada", action: "start", reason: "")
        var assignments = [try ledger.assignment(forRollout: id, stage: 0).id]
        for stage in 1...2 {
            _ = try ledger.advanceStage(rolloutID: id, actor: "controller", reason: "ship")
            assignments.append(try ledger.assignment(forRollout: id, stage: stage).id)
        }
        for round in 0..<4 {
            for (stage, assignment) in assignments.enumerated() {
                _ = try ledger.ingest(LedgerFixture.window(
                    assignment: assignment, sequence: Int64(round), count: 10 * (stage + 1), agreements: 10 * (stage + 1)))
            }
        }
        for stage in 0...2 {
            XCTAssertEqual(try ledger.rolloutEvidence(forRollout: id, stage: stage).overall.samples, 40 * (stage + 1))
        }
        let verification = try Ledger.openReadOnly(path: ledger.path).verifyRunningTotals()
        XCTAssertEqual(verification.mismatches, [])
        XCTAssertEqual(verification.stagesChecked, 3)
    }

    func testEachStageHasItsOwnAssignmentEvidenceAndDecisions() throws {
        try onEachEngine { fixture in
            let id = try fixture.ledger.createStagedRollout(request(), actor: "operator:ada").id
            try fixture.ledger.changeState(rolloutID: id, from: [.created], to: .running, actor: "operator:ada", action: "start", reason: "")
            let stage0 = try fixture.ledger.assignment(forRollout: id, stage: 0)
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: stage0.id, sequence: 0, count: 100))
            let plan = try fixture.ledger.advanceStage(rolloutID: id, actor: "controller", reason: "ship")
            XCTAssertEqual(plan.stage, 1)
            let stage1 = try fixture.ledger.assignment(forRollout: id, stage: 1)
            XCTAssertNotEqual(stage0.id, stage1.id)
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: stage1.id, sequence: 0, count: 40, agreements: 40))
            XCTAssertEqual(try fixture.ledger.rolloutEvidence(forRollout: id, stage: 0).overall.samples, 100)
            XCTAssertEqual(try fixture.ledger.rolloutEvidence(forRollout: id, stage: 1).overall.samples, 40)
            XCTAssertEqual(try fixture.ledger.evidence(forRollout: id).samples, 140)

            let decision = Decision(
                outcome: .collecting, metric: "disagreement", n: 40, statistic: 0, lowerBound: 0, upperBound: 0.2,
                confidence: 0.95, policyVersion: "test.1")
            try fixture.ledger.recordStageDecision(decision, rolloutID: id, stage: 1)
            XCTAssertEqual(try fixture.ledger.latestDecision(forRollout: id)?.stage, 1)
            XCTAssertEqual(try fixture.ledger.rollout(id: id).status, .shadowing, "a stage decision leaves the rollout open")
        }
    }
}
