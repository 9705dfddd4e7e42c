import DaemonSupport
import FleetProtocol
import Logging
import NIOSSL
import ServiceLifecycle

/// Keeps the agent connected to a coordinator: connects over mutual TLS, runs a session, and on any
/// failure reconnects after a jittered exponential backoff, to the next of its coordinators (from a
/// random first one). Serving never waits for the link.
struct CoordinatorLink: Service {
    let configuration: AgentConfiguration
    let tls: NIOSSLContext
    let verification: PeerVerification
    let session: LinkSession
    let logger: Logger

    static let handshakeLimit = Duration.nanoseconds(FleetPipeline.defaultHandshakeTimeout.nanoseconds)

    /// A link that got past Welcome was healthy, so when it drops the agent retries at once; unless
    /// the agent itself ended it for a failure the next session will likely meet again (an
    /// assignment its full disk could not record, a model the coordinator's store serves damaged):
    /// then the backoff grows.
    static func resetsBackoff(welcomed: Bool, endedBy failure: (any Error)?) -> Bool {
        switch failure as? LinkSession.LinkError {
        case .unrecorded?, .unverifiable?: false
        default: welcomed
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = Backoff(configuration.reconnect)
            let coordinators = configuration.coordinators
            var next = Int.random(in: 0..<coordinators.count)
            while !Task.isCancelled {
                let coordinator = coordinators[next]
                next = (next + 1) % coordinators.count
                var logger = logger
                logger[metadataKey: "coordinator"] = "\(coordinator)"
                let welcomed = WelcomeFlag()
                var failure: (any Error)?
                do {
                    let connection = try await FleetClient.connect(
                        host: coordinator.host, port: coordinator.port, tls: tls, verification: verification,
                        serverHostname: configuration.coordinatorName, maxFrameBytes: configuration.maxFrameBytes,
                        logger: logger)
                    // Until the Welcome names the heartbeat interval, silence is allowed as long as a handshake.
                    SilenceWatch.install(on: connection.channel.channel, limit: Self.handshakeLimit, logger: logger)
                    try await connection.channel.executeThenClose { inbound, outbound in
                        try await session.run(inbound: inbound, outbound: outbound) { heartbeat in
                            welcomed.set()
                            SilenceWatch.tighten(on: connection.channel.channel, to: heartbeat * 3)
                        }
                    }
                    logger.warning("coordinator closed the connection")
                } catch is CancellationError {
                    return
                } catch {
                    failure = error
                    logger.warning("coordinator link failed", metadata: ["error": "\(error)"])
                }
                if Self.resetsBackoff(welcomed: welcomed.isSet, endedBy: failure) { backoff.reset() }
                let delay = backoff.nextDelay()
                logger.info("reconnecting", metadata: ["after_ms": "\(delay / .milliseconds(1))"])
                // A shutdown while waiting ends the link as one during a session does: cleanly.
                do { try await Task.sleep(for: delay) } catch { return }
            }
        }
    }
}

import Synchronization

/// Set once a session got past Hello/Welcome, so a healthy link that later drops retries fast.
private final class WelcomeFlag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
