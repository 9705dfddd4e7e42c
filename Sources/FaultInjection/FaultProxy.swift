import NIOCore
import NIOPosix

/// A TCP proxy on loopback that injects network faults between its clients and one target:
/// latency and jitter, a bandwidth cap, stalls, connections cut mid-stream, black-hole partitions,
/// half-open connections and stale twins of reconnecting clients. Everything is controlled at run
/// time from the process that started it; faults apply to the whole link (every connection through
/// this proxy), cuts, half-opening and abandoning to every open connection or to one.
///
/// ```swift
/// let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: coordinatorPort)
/// try proxy.update { $0.latency = .milliseconds(200); $0.jitter = .milliseconds(50) }
/// proxy.partition()          // bytes accepted, nothing delivered
/// proxy.heal()
/// proxy.cut(afterBytes: 10)  // every open connection closed after 10 more bytes
/// ```
public final class FaultProxy: Sendable {
    /// What crossed the link since the proxy started.
    public struct Counters: Sendable, Equatable {
        public var connectionsAccepted = 0
        public var bytesForwarded = 0
        public var bytesDropped = 0
    }

    /// The loopback port clients connect to.
    public let port: Int
    private let listener: any Channel
    private let link: LinkState

    private init(port: Int, listener: any Channel, link: LinkState) {
        self.port = port
        self.listener = listener
        self.link = link
    }

    /// Listens on 127.0.0.1:`listenPort` (0: a free port) and forwards each connection to `host`:`port`.
    /// A client is connected to the target only once it is accepted; if the target refuses, the
    /// client's connection is closed, as a refused connection would be.
    public static func start(
        forwardingTo host: String, port targetPort: Int, listenPort: Int = 0,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> FaultProxy {
        let target = try SocketAddress.makeAddressResolvingHost(host, port: targetPort)
        let link = LinkState()
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: RelayHandler.readBytes))
                // Nothing is read from a client before its target side exists (or is known never to).
                .childChannelOption(.autoRead, value: false)
                .childChannelInitializer { client in relay(client, to: target, link: link) }
                .bind(host: "127.0.0.1", port: listenPort)
                .get()
        } catch {
            throw FaultProxyError.cannotListen(port: listenPort, reason: "\(error)")
        }
        return FaultProxy(port: listener.localAddress?.port ?? listenPort, listener: listener, link: link)
    }

    private static func relay(_ client: any Channel, to target: SocketAddress, link: LinkState) -> EventLoopFuture<Void> {
        let connection = link.open(client)
        client.closeFuture.whenComplete { _ in link.closed(connection) }
        guard !connection.isDead else {
            // Accepted during a partition: read and drop, and never connect behind it.
            return client.eventLoop.makeCompletedFuture {
                try client.pipeline.syncOperations.addHandler(RelayHandler(link: link, connection: connection, partner: nil))
                try client.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            }
        }
        // Both sides on the client's event loop, so each relay writes to its partner without a hop.
        return ClientBootstrap(group: client.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: RelayHandler.readBytes))
            .connectTimeout(.seconds(5))
            .channelInitializer { targetChannel in
                targetChannel.eventLoop.makeCompletedFuture {
                    try targetChannel.pipeline.syncOperations.addHandler(
                        RelayHandler(link: link, connection: connection, partner: client))
                }
            }
            .connect(to: target)
            .flatMapThrowing { targetChannel in
                // The client is not registered yet (the listener registers it once this future
                // succeeds); if it went meanwhile, its relay sees the end and closes the target.
                connection.attach(target: targetChannel)
                try client.pipeline.syncOperations.addHandler(RelayHandler(link: link, connection: connection, partner: targetChannel))
                try client.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            }
            .flatMapError { _ in client.close() }
    }

    public var faults: LinkFaults { link.faults }

    /// Changes the link's faults; bytes read from now on get the new ones. Throws on settings no
    /// link can have (a negative latency, a bandwidth of 0), leaving the faults as they were.
    public func update(_ change: (inout LinkFaults) -> Void) throws {
        try link.update(change)
    }

    /// Holds every byte read from now for `duration`, then delivers them in order.
    public func stall(for duration: Duration) {
        try? link.update { $0.stalledUntil = .now() + TimeAmount(duration) }
    }

    /// A black-hole partition, until `heal()`: see `LinkFaults.isPartitioned`.
    public func partition() {
        try? link.update { $0.isPartitioned = true }
    }

    public func heal() {
        try? link.update { $0.isPartitioned = false }
    }

    /// Back to a clean link (connections killed before stay dead).
    public func clearFaults() {
        try? link.update { $0 = .none }
    }

    /// The ids of the connections open now, oldest first.
    public var connectionIDs: [Int] { link.connections.map(\.id) }

    /// Lets `afterBytes` more bytes through (both directions together), then closes both sides: with
    /// a few bytes, the cut falls mid-frame. `connection` nil: every open connection.
    public func cut(afterBytes: Int = 0, connection id: Int? = nil) throws {
        for connection in try selected(id) { connection.cut(afterBytes: afterBytes) }
    }

    /// Makes connections half-open: the target's side is closed, the client's side stays open and
    /// swallows what the client sends. The client learns nothing until it notices the silence.
    public func halfOpen(connection id: Int? = nil) throws {
        for connection in try selected(id) { connection.kill(closing: .target) }
    }

    /// The mirror of `halfOpen`: the client's side is closed, so the client reconnects, while the
    /// target's side stays open and silent. The target then holds a stale twin when the client's
    /// next connection arrives (an agent back before the coordinator noticed it gone), until it
    /// notices the silence itself.
    public func abandonTargetSide(connection id: Int? = nil) throws {
        for connection in try selected(id) { connection.kill(closing: .client) }
    }

    public var counters: Counters { link.counters }

    /// Stops listening and closes every connection.
    public func stop() async {
        try? await listener.close()
        for connection in link.connections { connection.close() }
    }

    private func selected(_ id: Int?) throws -> [ProxiedConnection] {
        try id.map { [try link.connection($0)] } ?? link.connections
    }
}
