import FleetProtocol
import Ledger
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Accepts agents over mutual TLS and runs one `AgentSession` per connection.
struct AgentListener: Service {
    let configuration: CoordinatorConfiguration
    let tls: NIOSSLContext
    let verification: PeerVerification
    let writer: LedgerWriter
    let presence: AgentPresence
    let connections: AgentConnections
    let reachability: LedgerReachability
    let controller: RolloutController
    let store: ModelStore
    let slots: TransferSlots
    let metrics: CoordinatorMetrics
    let logger: Logger

    func run() async throws {
        let server = try await FleetServer.bind(
            host: configuration.listen.host, port: configuration.listen.port, tls: tls, verification: verification,
            maxFrameBytes: configuration.maxFrameBytes, admission: HandshakeAdmission(configuration.handshakeLimits),
            deferred: { [metrics] in metrics.deferred($0) },
            heartbeatInterval: .milliseconds(Int64(configuration.heartbeatIntervalMillis)), logger: logger)
        logger.notice("listening for agents", metadata: ["address": "\(server.localAddress.map { "\($0)" } ?? "?")"])
        do {
            try await cancelWhenGracefulShutdown { try await serve(server) }
        } catch is CancellationError {
            logger.notice("stopped listening for agents")
        }
    }

    private func serve(_ server: FleetServer) async throws {
        try await server.run { connection in
            var logger = logger
            logger[metadataKey: "agent"] = "\(connection.identity)"
            guard reachability.isReachable else {
                // Nothing it sent could be stored: off to another coordinator.
                logger.notice("agent turned away: the ledger is out of reach")
                try? await connection.channel.channel.close()
                return
            }
            let session = AgentSession(
                agentID: connection.identity, peer: connection.remoteAddress.map { "\($0)" } ?? "unknown",
                closeConnection: { [channel = connection.channel.channel] in channel.close(promise: nil) },
                connections: connections, writer: writer, presence: presence, controller: controller,
                streamer: ModelChunkStreamer(store: store, ledger: writer.ledger, slots: slots, metrics: metrics, logger: logger),
                heartbeatInterval: .milliseconds(configuration.heartbeatIntervalMillis),
                maxFrameBytes: configuration.maxFrameBytes, limits: configuration.agentLimits, metrics: metrics, logger: logger)
            do {
                try await connection.channel.executeThenClose { inbound, outbound in
                    try await session.run(inbound: inbound, outbound: outbound)
                }
                logger.info("agent disconnected")
            } catch is CancellationError {
                logger.info("agent session ended: shutting down")
            } catch {
                logger.notice("agent session ended", metadata: ["reason": "\(error)"])
            }
        }
    }
}
