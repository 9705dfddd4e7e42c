import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// An agent's (or tool's) connection to the coordinator.
public enum FleetClient {
    /// Connects, completes the TLS handshake (verifying the server against the fleet CA and
    /// `serverHostname` against its DNS names; with `verification`, against its CRL too) and returns
    /// the connection with the server's CN.
    ///
    /// With TLS 1.3 the server checks the client's certificate after the client considers the
    /// handshake done, so a client the server refuses learns it on its first read (the inbound
    /// sequence ends with an error or finishes), not from this call.
    ///
    /// `localAddress` binds the connection's source address first (a load generator spreads its
    /// connections over 127.0.0.0/8, so one source address's ephemeral ports are no limit).
    public static func connect(
        host: String,
        port: Int,
        tls: NIOSSLContext,
        verification: PeerVerification? = nil,
        serverHostname: String,
        localAddress: SocketAddress? = nil,
        maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes,
        handshakeTimeout: TimeAmount = FleetPipeline.defaultHandshakeTimeout,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> FleetConnection {
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(handshakeTimeout)
        if let localAddress { bootstrap = bootstrap.bind(to: localAddress) }
        let pending = try await bootstrap
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let identity = try FleetPipeline.configureClient(
                        channel,
                        context: tls,
                        verification: verification,
                        serverHostname: serverHostname,
                        maxFrameBytes: maxFrameBytes,
                        handshakeTimeout: handshakeTimeout,
                        logger: logger
                    )
                    return try PendingFleetConnection.wrapping(channel, identity: identity)
                }
            }
        return try await pending.established()
    }
}
