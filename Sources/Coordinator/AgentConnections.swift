import NIOConcurrencyHelpers
import Synchronization

/// One connection per agent id. A second connection with an id already connected replaces the first
/// (an agent that reconnects before the coordinator noticed its old connection die), but at most
/// once per `replacementInterval` per id: a stolen certificate then cannot evict the real agent in a
/// loop, since the newcomer is refused instead, and every replacement and refusal is logged,
/// counted and recorded in the ledger by the session.
final class AgentConnections: Sendable {
    /// What claiming an agent id did.
    enum Claim: Equatable {
        /// No connection had the id.
        case first
        /// The previous connection (from `peer`) was closed in favour of this one.
        case replaced(peer: String)
        /// The id was replaced `since` ago, sooner than the interval allows: this connection must go.
        case refused(peer: String, since: Duration)
    }

    private struct Holder {
        var token: Int
        var peer: String
        var close: @Sendable () -> Void
        var lastReplacement: ContinuousClock.Instant?
    }

    let replacementInterval: Duration
    private let holders = NIOLockedValueBox<[String: Holder]>([:])
    private let nextToken = Atomic(0)

    init(replacementInterval: Duration) {
        self.replacementInterval = replacementInterval
    }

    /// Claims `agentID` for a connection from `peer` that `close` closes. Returns what happened and
    /// the token `release` needs (nil when refused: the connection holds nothing).
    func claim(
        _ agentID: String, peer: String, close: @escaping @Sendable () -> Void, at now: ContinuousClock.Instant = .now
    ) -> (claim: Claim, token: Int?) {
        let token = nextToken.add(1, ordering: .relaxed).newValue
        let (claim, evicted): (Claim, (@Sendable () -> Void)?) = holders.withLockedValue { holders in
            guard let holder = holders[agentID] else {
                holders[agentID] = Holder(token: token, peer: peer, close: close, lastReplacement: nil)
                return (.first, nil)
            }
            if let last = holder.lastReplacement, last.duration(to: now) < replacementInterval {
                return (.refused(peer: holder.peer, since: last.duration(to: now)), nil)
            }
            holders[agentID] = Holder(token: token, peer: peer, close: close, lastReplacement: now)
            return (.replaced(peer: holder.peer), holder.close)
        }
        evicted?()  // outside the lock: closing runs channel code
        if case .refused = claim { return (claim, nil) }
        return (claim, token)
    }

    /// Closes every agent's connection (the ledger is out of reach: they go to another coordinator).
    func closeAll() {
        let closing = holders.withLockedValue { $0.values.map(\.close) }
        for close in closing { close() }  // outside the lock: closing runs channel code
    }

    /// The connection holding `token` ended; a connection that replaced it keeps the id.
    func release(_ agentID: String, token: Int) {
        holders.withLockedValue { holders in
            if holders[agentID]?.token == token { holders[agentID] = nil }
        }
    }
}
