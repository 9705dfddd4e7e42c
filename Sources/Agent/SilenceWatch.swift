import Logging
import NIOCore

/// Ends a coordinator connection on which no byte has arrived for `limit`. A live coordinator sends
/// a heartbeat every interval, so a silent one means the connection is dead even when TCP cannot
/// tell: left half-open by a NAT or a partition, or a coordinator stopped outright. Without this the
/// agent waited on such a connection for ever, and its sealed windows with it (found by
/// `quantfleet chaos`). Bytes are counted ahead of TLS, so a model chunk still crawling in over a
/// slow link counts as life.
enum SilenceWatch {
    static func install(on channel: any Channel, limit: Duration, logger: Logger) {
        let (seconds, attoseconds) = limit.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        channel.eventLoop.execute {
            do {
                try channel.pipeline.syncOperations.addHandler(CloseOnSilence(limit: limit, logger: logger), position: .first)
                try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: timeout), position: .first)
            } catch {
                // The channel closed meanwhile: nothing left to watch.
            }
        }
    }
}

/// Closes the channel when the `IdleStateHandler` ahead of it reports no read for the limit.
private final class CloseOnSilence: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let limit: Duration
    private let logger: Logger

    init(limit: Duration, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            return context.fireUserInboundEventTriggered(event)
        }
        logger.warning("no byte from the coordinator for three heartbeat intervals; closing the connection", metadata: [
            "silent_ms": "\(limit / .milliseconds(1))"
        ])
        context.close(promise: nil)
    }
}
