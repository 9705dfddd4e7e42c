import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Ledger

/// Coordinators sharing a PostgreSQL ledger hear of each other's assignment changes (LISTEN/NOTIFY)
/// when the change commits, not before, and well within a second.
final class AssignmentChangeTests: XCTestCase {
    func testAnotherCoordinatorHearsOfAStageChangeOnceItCommits() async throws {
        let fixture = try LedgerFixture(.postgres)
        defer { fixture.remove() }
        let listener = try fixture.reopen()
        let heard = NIOLockedValueBox<[ContinuousClock.Instant]>([])
        let listening = Task { await listener.listenForAssignmentChanges { heard.withLockedValue { $0.append(.now) } } }
        defer { listening.cancel() }
        try await waitFor(heard, count: 1)  // listening started

        let rollout = try fixture.ledger.createStagedRollout(
            StagedRolloutRequest(
                modelName: "digits", referenceSHA256: LedgerFixture.referenceSHA256, candidateSHA256: LedgerFixture.candidateSHA256,
                samplingRate: 1, windowSize: 10, windowMaxAgeMillis: 1000, policyVersion: "test.1", target: [:], stages: [50, 100]),
            actor: "operator:ana")
        let changed = ContinuousClock.now
        try fixture.ledger.changeState(rolloutID: rollout.id, from: [.created], to: .running, actor: "operator:ana", action: "start", reason: "")
        try await waitFor(heard, count: 2)
        let latency = changed.duration(to: heard.withLockedValue { $0[1] })
        XCTAssertLessThan(latency, .seconds(1))
        print("assignment change heard by another coordinator after \(latency)")

        // A change that rolls back is not announced.
        XCTAssertThrowsError(try fixture.ledger.changeState(
            rolloutID: rollout.id, from: [.created], to: .running, actor: "operator:ana", action: "start", reason: ""))
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(heard.withLockedValue { $0.count }, 2)
    }

    private func waitFor(_ heard: NIOLockedValueBox<[ContinuousClock.Instant]>, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while heard.withLockedValue({ $0.count }) < count {
            guard ContinuousClock.now < deadline else { return XCTFail("heard \(heard.withLockedValue { $0.count }) changes, not \(count)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
