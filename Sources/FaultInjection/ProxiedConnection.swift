import NIOCore
import NIOConcurrencyHelpers

/// One client connection through a fault proxy: the client's channel, the channel to the target
/// once connected, and what has been done to the pair (dead, or to be cut after some bytes).
final class ProxiedConnection: Sendable {
    let id: Int
    let client: any Channel
    private let state: NIOLockedValueBox<State>

    private struct State {
        var target: (any Channel)?
        /// Nothing crosses a dead connection again, in either direction (partitioned, or half-open).
        var isDead = false
        /// Bytes still allowed through before both sides are closed; nil: no cut pending.
        var cutBudget: Int?
    }

    /// What may happen to bytes read on this connection.
    enum Admission: Equatable {
        case drop
        /// Forward `bytes` (all of them, or the part before a pending cut), then cut if `cuts`.
        case forward(bytes: Int, cuts: Bool)
    }

    init(id: Int, client: any Channel, isDead: Bool) {
        self.id = id
        self.client = client
        state = NIOLockedValueBox(State(isDead: isDead))
    }

    var isDead: Bool { state.withLockedValue { $0.isDead } }

    func attach(target: any Channel) {
        state.withLockedValue { $0.target = target }
    }

    /// Admits `bytes` read on either side, spending a pending cut's budget.
    func admit(_ bytes: Int) -> Admission {
        state.withLockedValue { state in
            if state.isDead { return .drop }
            guard let budget = state.cutBudget else { return .forward(bytes: bytes, cuts: false) }
            let passing = min(budget, bytes)
            state.cutBudget = budget - passing
            return .forward(bytes: passing, cuts: passing < bytes || budget - passing == 0)
        }
    }

    /// The next `bytes` bytes (counted over both directions) pass, then both sides are closed; 0 cuts now.
    func cut(afterBytes bytes: Int) {
        let now = state.withLockedValue { state in
            state.cutBudget = max(0, bytes)
            return bytes <= 0
        }
        if now { close() }
    }

    /// One end of a proxied connection.
    enum Side {
        case client, target
    }

    /// Kills the connection: nothing crosses it again, and `closing` (if any) is closed, so that
    /// end's peer sees the end while the other end's peer is not told.
    func kill(closing side: Side?) {
        let target = state.withLockedValue { state in
            state.isDead = true
            return state.target
        }
        switch side {
        case .client: client.close(promise: nil)
        case .target: target?.close(promise: nil)
        case nil: break
        }
    }

    func close() {
        let target = state.withLockedValue { $0.target }
        client.close(promise: nil)
        target?.close(promise: nil)
    }
}
