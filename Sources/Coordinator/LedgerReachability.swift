import Prometheus
import Ledger
import Logging
import NIOConcurrencyHelpers

/// Whether this coordinator can reach its ledger. One that cannot (its PostgreSQL server cut off or
/// down) can ack nothing, so it lets its agents go to a coordinator that can: when the ledger is
/// lost it ends every agent session, and it turns new ones away until a write succeeds again (the
/// controller-term claim tries every second). Only `LedgerUnreachable` counts; a refused write
/// (a bad window, say) says nothing about the connection.
final class LedgerReachability: Sendable {
    private let reachable = NIOLockedValueBox(true)
    private let lost: @Sendable () -> Void
    /// 1 while reachable, 0 while not (`quantfleet_coordinator_ledger_reachable`).
    private let gauge: Gauge?
    private let logger: Logger

    /// `lost` ends the agents' sessions.
    init(logger: Logger, gauge: Gauge? = nil, lost: @escaping @Sendable () -> Void) {
        self.logger = logger
        self.gauge = gauge
        self.lost = lost
        gauge?.set(to: 1.0)
    }

    var isReachable: Bool { reachable.withLockedValue { $0 } }

    func failed(_ error: any Error) {
        guard error is LedgerUnreachable, reachable.withLockedValue({ was in defer { was = false }; return was }) else { return }
        gauge?.set(to: 0.0)
        logger.error("ledger unreachable: ending agent sessions and turning agents away until it answers", metadata: ["error": "\(error)"])
        lost()
    }

    func succeeded() {
        guard !reachable.withLockedValue({ was in defer { was = true }; return was }) else { return }
        gauge?.set(to: 1.0)
        logger.notice("ledger reachable again: accepting agents")
    }
}
