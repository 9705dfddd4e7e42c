import Foundation
import Logging
import NIOCore
import NIOTLS

/// Keeps a connection's peer hearing from us and drops a peer gone silent: from the end of the TLS
/// handshake, every `interval` it sends a Heartbeat, and once nothing was read for three intervals
/// (a dead link, a peer that finished TLS and never spoke) it logs why and closes the channel.
/// Before the handshake ends, admission and the handshake timeout govern the connection.
///
/// One timer on the channel's event loop per connection, where a task per session sleeping in a
/// loop held its async frames: at 10,000 agents those were kilobytes each.
public final class HeartbeatHandler: ChannelInboundHandler {
    public typealias InboundIn = Envelope
    public typealias InboundOut = Envelope
    public typealias OutboundOut = Envelope

    private let interval: TimeAmount
    private let logger: Logger
    /// On the event loop's clock (`eventLoop.now`), which tests can move.
    private var lastRead = NIODeadline.uptimeNanoseconds(0)
    private var timer: RepeatedTask?

    public init(interval: TimeAmount, logger: Logger) {
        precondition(interval > .zero, "a heartbeat interval is positive")
        self.interval = interval
        self.logger = logger
    }

    /// How long without a frame before the peer counts as gone.
    public var silenceLimit: TimeAmount { interval * 3 }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, timer == nil {
            lastRead = context.eventLoop.now
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
                tick(bound.value)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        context.fireChannelRead(data)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func tick(_ context: ChannelHandlerContext) {
        let silent = context.eventLoop.now - lastRead
        guard silent < silenceLimit else {
            logger.notice("closing a silent connection", metadata: [
                "reason": "no frame for \(silenceLimit.nanoseconds / 1_000_000_000) s (three heartbeat intervals)",
                "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
            ])
            timer?.cancel()
            timer = nil
            context.close(promise: nil)
            return
        }
        let heartbeat = Envelope(.heartbeat(.with { $0.sentAtMs = UInt64(Date().timeIntervalSince1970 * 1000) }))
        context.writeAndFlush(wrapOutboundOut(heartbeat), promise: nil)
    }
}
