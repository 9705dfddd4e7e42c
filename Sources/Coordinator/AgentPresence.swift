import Foundation
import NIOConcurrencyHelpers

/// When each connected agent was last heard from, in memory: a heartbeat is no ledger write. The
/// sightings reach the ledger in batches (`PresenceFlusher`), and the admin API reads the newest of
/// the two.
final class AgentPresence: Sendable {
    private let unflushed = NIOLockedValueBox<[String: Date]>([:])

    func seen(_ agentID: String, at date: Date = Date()) {
        unflushed.withLockedValue { $0[agentID] = date }
    }

    /// The agent's sighting not yet in the ledger, if any.
    func lastSeen(_ agentID: String) -> Date? {
        unflushed.withLockedValue { $0[agentID] }
    }

    /// Takes the sightings to write; they stay readable here until `flushed` removes them.
    func pending() -> [String: Date] {
        unflushed.withLockedValue { $0 }
    }

    /// Forgets the sightings a flush wrote, unless the agent was seen again since.
    func flushed(_ written: [String: Date]) {
        unflushed.withLockedValue { sightings in
            for (agentID, date) in written where sightings[agentID] == date { sightings[agentID] = nil }
        }
    }
}
