import Foundation
import XCTest

@testable import Coordinator

/// Heartbeats reach the real ledger in batches, and what is pending when the flusher stops is written.
final class PresenceFlusherTests: XCTestCase {
    func testSightingsReachTheLedgerPeriodicallyAndOnStop() async throws {
        let fixture = try WriterFixture(for: self)
        let hello = Date(timeIntervalSince1970: 1_800_000_000)
        for id in ["agent-1", "agent-2"] {
            try fixture.ledger.recordAgentSeen(id: id, kernelPath: "avx2", agentVersion: "t", at: hello)
        }
        let presence = AgentPresence()
        let flusher = PresenceFlusher(presence: presence, writer: fixture.writer, interval: .milliseconds(50), logger: fixture.logger)
        let running = Task { try await flusher.run() }

        presence.seen("agent-1", at: hello + 10)
        try await waitUntil { try fixture.lastSeen("agent-1") == hello + 10 }
        XCTAssertNil(presence.lastSeen("agent-1"), "a written sighting is no longer pending")

        presence.seen("agent-2", at: hello + 20)
        running.cancel()
        try await running.value
        XCTAssertEqual(try fixture.lastSeen("agent-2"), hello + 20, "the last sightings are written on stop")
    }

    private func waitUntil(_ condition: () throws -> Bool) async throws {
        for _ in 0..<200 where try !condition() { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(try condition(), "timed out")
    }
}

extension WriterFixture {
    func lastSeen(_ agentID: String) throws -> Date? {
        try ledger.agents().first { $0.id == agentID }?.lastSeenAt
    }
}
