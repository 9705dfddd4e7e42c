import Foundation
import Ledger
import XCTest

/// The versions signed metadata carries (migration v7-signed-metadata-versions), and which agents'
/// windows count in a stage.
final class SignedMetadataVersionTests: LedgerTestCase {
    private func stagedRollout(_ fixture: LedgerFixture) throws -> String {
        let id = try fixture.ledger.createStagedRollout(
            StagedRolloutRequest(
                modelName: "digits", referenceSHA256: LedgerFixture.referenceSHA256, candidateSHA256: LedgerFixture.candidateSHA256,
                samplingRate: 1, windowSize: 10, windowMaxAgeMillis: 500, policyVersion: "test.1", target: [:], stages: [50, 100]),
            actor: "operator:ada").id
        try fixture.ledger.changeState(rolloutID: id, from: [.created], to: .running, actor: "operator:ada", action: "start", reason: "")
        return id
    }

    /// One counter for every agent: each new (agent, assignment, mode) takes the next number, and
    /// asking again (a renewal) gives the same one.
    func testAssignmentVersionsComeFromOneCounterAndRepeatForTheSameAssignmentAndMode() throws {
        try onEachEngine { fixture in
            let first = try fixture.ledger.assignment(forRollout: try stagedRollout(fixture), stage: 0).id
            let shadowOne = try fixture.ledger.assignmentVersion(agentID: "agent-1", assignmentID: first, mode: "shadow")
            let shadowTwo = try fixture.ledger.assignmentVersion(agentID: "agent-2", assignmentID: first, mode: "shadow")
            let promotedOne = try fixture.ledger.assignmentVersion(agentID: "agent-1", assignmentID: first, mode: "promoted")
            XCTAssertLessThan(shadowOne, shadowTwo)
            XCTAssertLessThan(shadowTwo, promotedOne)
            XCTAssertEqual(try fixture.ledger.assignmentVersion(agentID: "agent-1", assignmentID: first, mode: "shadow"), shadowOne)
            XCTAssertThrowsError(try fixture.ledger.assignmentVersion(agentID: "agent-1", assignmentID: first, mode: "sideways"))
        }
    }

    /// Reference and candidate share a name: each (name, precision) counts on its own.
    func testManifestVersionsCountPerNameAndPrecision() throws {
        try onEachEngine { fixture in
            XCTAssertEqual(try fixture.ledger.nextManifestVersion(name: "digits", precision: "int8"), 1)
            try fixture.ledger.registerModel(ModelRecord(
                sha256: String(repeating: "c", count: 64), name: "digits", precision: "int8", sizeBytes: 10, registeredAt: Date(),
                manifest: Data([1]), signature: Data([2]), manifestVersion: 1, manifestKeyID: "0011223344556677"))
            XCTAssertEqual(try fixture.ledger.nextManifestVersion(name: "digits", precision: "int8"), 2)
            XCTAssertEqual(try fixture.ledger.nextManifestVersion(name: "digits", precision: "fp16"), 1)
            XCTAssertEqual(try fixture.ledger.model(sha256: String(repeating: "c", count: 64)).manifestKeyID, "0011223344556677")
        }
    }

    /// The configuration file's rollout has no plan and no members: every agent shadows it.
    func testEveryAgentCountsInTheConfigurationFilesRollout() throws {
        try onEachEngine { fixture in
            let configured = try fixture.ledger.assignment(forRollout: try fixture.makeRollout().id).id
            XCTAssertEqual(try fixture.ledger.standing(ofAgent: "anyone", inAssignment: configured), .member)
        }
    }

    /// A stage counts the windows of its members only (enrolled in it or before).
    func testOnlyAStagedRolloutsMembersCountInItsStages() throws {
        try onEachEngine { fixture in
            for id in ["agent-1", "agent-2"] {
                try fixture.ledger.recordAgentSeen(id: id, kernelPath: "avx2", agentVersion: "0.1", labels: [:], at: Date())
            }
            let rollout = try stagedRollout(fixture)
            let stageZero = try fixture.ledger.assignment(forRollout: rollout, stage: 0).id
            try fixture.ledger.enroll(agentIDs: ["agent-1"], rolloutID: rollout, stage: 0)
            XCTAssertEqual(try fixture.ledger.standing(ofAgent: "agent-1", inAssignment: stageZero), .member)
            XCTAssertEqual(try fixture.ledger.standing(ofAgent: "agent-2", inAssignment: stageZero), .notMember(rolloutID: rollout, stage: 0))

            try fixture.ledger.advanceStage(rolloutID: rollout, actor: "controller", reason: "ship")
            try fixture.ledger.enroll(agentIDs: ["agent-2"], rolloutID: rollout, stage: 1)
            let stageOne = try fixture.ledger.assignment(forRollout: rollout, stage: 1).id
            XCTAssertEqual(try fixture.ledger.standing(ofAgent: "agent-1", inAssignment: stageOne), .member, "members stay")
            XCTAssertEqual(try fixture.ledger.standing(ofAgent: "agent-2", inAssignment: stageOne), .member)
            XCTAssertEqual(
                try fixture.ledger.standing(ofAgent: "agent-2", inAssignment: stageZero), .notMember(rolloutID: rollout, stage: 0),
                "joining later does not make an agent a member of the earlier stage")
            XCTAssertEqual(try fixture.ledger.standing(ofAgent: "agent-1", inAssignment: "a-000000000000"), .unknown)
        }
    }
}
