import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The coordinator's listener: accepts TLS connections, and hands each one whose client proved a
/// fleet certificate to `run`'s handler as a `FleetConnection` carrying the agent's identity.
///
/// Each connection is served in its own child task. A client that fails the handshake (no
/// certificate, another CA, timeout) never reaches the handler; a connection that sends a bad frame
/// is closed with a logged reason. Neither disturbs the listener or other connections. With
/// `admission`, connections beyond its limits wait, unaccepted or reading nothing, until their
/// handshake may start. With
/// `verification`, clients are checked against its CRL too, and closed when it revokes them.
///
/// ```swift
/// let server = try await FleetServer.bind(host: "0.0.0.0", port: 7443, tls: context, logger: logger)
/// try await server.run { connection in
///     try await connection.channel.executeThenClose { inbound, outbound in
///         for try await envelope in inbound { ... }
///     }
/// }
/// ```
public struct FleetServer: Sendable {
    public typealias ConnectionHandler = @Sendable (FleetConnection) async throws -> Void

    private let listener: NIOAsyncChannel<PendingFleetConnection, Never>
    private let admission: HandshakeAdmission?
    private let logger: Logger

    /// The address actually bound (useful with port 0).
    public var localAddress: SocketAddress? { self.listener.channel.localAddress }

    public static func bind(
        host: String,
        port: Int,
        tls: NIOSSLContext,
        verification: PeerVerification? = nil,
        maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes,
        handshakeTimeout: TimeAmount = FleetPipeline.defaultHandshakeTimeout,
        admission: HandshakeAdmission? = nil,
        deferred: @escaping @Sendable (HandshakeDeferral) -> Void = { _ in },
        heartbeatInterval: TimeAmount? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> FleetServer {
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: listenBacklog)
            // One accept per read, and none while an accepted connection waits for `run` to take it:
            // `run` takes the next only once admission would let its handshake start. (A connection
            // reaches `run` once its channel is set up, so NIO may accept a few more meanwhile; they
            // wait for admission without reading.)
            .serverChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Admission turns reading on once a connection's handshake may start.
            .childChannelOption(.autoRead, value: admission == nil)
            .bind(host: host, port: port, serverBackPressureStrategy: .init(lowWatermark: 1, highWatermark: 1)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let identity = try FleetPipeline.configureServer(
                        channel,
                        context: tls,
                        verification: verification,
                        maxFrameBytes: maxFrameBytes,
                        handshakeTimeout: handshakeTimeout,
                        admission: admission,
                        deferred: deferred,
                        heartbeatInterval: heartbeatInterval,
                        logger: logger
                    )
                    return try PendingFleetConnection.wrapping(channel, identity: identity)
                }
            }
        return FleetServer(listener: listener, admission: admission, logger: logger)
    }

    /// Connections the kernel completes and queues while the listener waits for admission; a
    /// reconnect storm beyond it retries its SYNs, which costs the coordinator nothing.
    static let listenBacklog: Int32 = 1024

    /// Accepts connections until the listener is closed (`close()`) or this task is cancelled,
    /// running `handler` concurrently for each. The connection is closed when its handler returns;
    /// an error thrown by a handler is logged and closes that connection only.
    public func run(_ handler: @escaping ConnectionHandler) async throws {
        try await self.listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await pending in inbound {
                    group.addTask { await self.serve(pending, handler: handler) }
                    try await self.admission?.waitUntilAdmissible()
                }
            }
        }
    }

    /// Stops accepting; connections already handed out keep running.
    public func close() async throws {
        try await self.listener.channel.close()
    }

    private func serve(_ pending: PendingFleetConnection, handler: ConnectionHandler) async {
        let connection: FleetConnection
        do {
            connection = try await pending.established()
        } catch {
            // Handshake failures were logged by the pipeline; this also covers silent disconnects.
            self.logger.debug("connection refused before identification", metadata: ["reason": "\(error)"])
            return
        }
        var logger = self.logger
        logger[metadataKey: "agent"] = "\(connection.identity)"
        logger.debug("connection established", metadata: ["peer": "\(connection.remoteAddress.map { "\($0)" } ?? "unknown")"])
        do {
            try await handler(connection)
        } catch {
            logger.warning("connection handler failed", metadata: ["reason": "\(error)"])
        }
        try? await connection.channel.channel.close()
    }
}
