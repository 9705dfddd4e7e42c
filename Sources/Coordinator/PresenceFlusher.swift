import DaemonSupport
import Foundation
import Logging
import ServiceLifecycle

/// Writes agents' sightings to the ledger every `interval`, one transaction each time, and once more
/// on shutdown.
struct PresenceFlusher: Service {
    let presence: AgentPresence
    let writer: LedgerWriter
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await repeatUntilShutdown(every: interval) { await flush() }
        await flush()
    }

    private func flush() async {
        let sightings = presence.pending()
        guard !sightings.isEmpty else { return }
        do {
            try await writer.perform { try $0.recordAgentSightings(sightings) }
            presence.flushed(sightings)
        } catch {
            logger.warning("agents' last-seen times not written; kept for the next flush", metadata: ["error": "\(error)"])
        }
    }
}
