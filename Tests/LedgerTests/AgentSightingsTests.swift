import Foundation
import Ledger
import XCTest

/// Heartbeats reach the ledger in batches: one transaction moves many agents' last-seen times.
final class AgentSightingsTests: LedgerTestCase {
    func testABatchMovesLastSeenForwardAndNeverBack() throws {
        try onEachEngine { fixture in
            let hello = Date(timeIntervalSince1970: 1_800_000_000)
            for id in ["agent-1", "agent-2"] {
                try fixture.ledger.recordAgentSeen(id: id, kernelPath: "avx2", agentVersion: "t", at: hello)
            }
            try fixture.ledger.recordAgentSightings(["agent-1": hello + 30, "agent-2": hello - 30, "agent-unknown": hello])
            let lastSeen = Dictionary(uniqueKeysWithValues: try fixture.ledger.agents().map { ($0.id, $0.lastSeenAt) })
            XCTAssertEqual(lastSeen, ["agent-1": hello + 30, "agent-2": hello], "an older sighting keeps the newer time; unknown ids add nothing")
        }
    }
}
