import Logging
import NIOCore

/// The last Fleet handler of a pipeline (an `NIOAsyncChannel`, if any, sits after it): turns any
/// error on this connection into a logged reason, a best-effort `ProtocolError` to the peer, and
/// the closing of this channel alone.
///
/// The error is still passed on, so the code reading the connection learns why it ended.
public final class ProtocolViolationHandler: ChannelInboundHandler {
    public typealias InboundIn = Quantfleet_V1_Envelope
    public typealias InboundOut = Quantfleet_V1_Envelope
    public typealias OutboundOut = Quantfleet_V1_Envelope

    private let logger: Logger
    /// Several handlers may report the same failure; the peer is told and the channel closed once.
    private var isClosing = false

    public init(logger: Logger) {
        self.logger = logger
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        defer { context.fireErrorCaught(error) }
        guard !self.isClosing else { return }
        self.isClosing = true

        let reason = String(describing: error)
        self.logger.warning(
            "closing connection",
            metadata: [
                "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
                "reason": "\(reason)",
            ]
        )
        let envelope = Quantfleet_V1_Envelope.protocolError(reason: reason)
        context.writeAndFlush(Self.wrapOutboundOut(envelope)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
