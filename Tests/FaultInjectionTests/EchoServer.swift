import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// A TCP echo server on loopback that counts the connections it accepted and saw closed: the
/// target the proxy tests put behind a `FaultProxy`.
final class EchoServer: Sendable {
    let port: Int
    private let listener: any Channel
    private let counts: Counts

    final class Counts: Sendable {
        private let state = NIOLockedValueBox((accepted: 0, closed: 0))
        func accepted() { state.withLockedValue { $0.accepted += 1 } }
        func closed() { state.withLockedValue { $0.closed += 1 } }
        var snapshot: (accepted: Int, closed: Int) { state.withLockedValue { $0 } }
    }

    private init(port: Int, listener: any Channel, counts: Counts) {
        self.port = port
        self.listener = listener
        self.counts = counts
    }

    static func start() async throws -> EchoServer {
        let counts = Counts()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                counts.accepted()
                channel.closeFuture.whenComplete { _ in counts.closed() }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return EchoServer(port: listener.localAddress!.port!, listener: listener, counts: counts)
    }

    var accepted: Int { counts.snapshot.accepted }
    var closed: Int { counts.snapshot.closed }

    func stop() async {
        try? await listener.close()
    }

    private final class Echo: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
