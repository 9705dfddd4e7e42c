import Logging
import NIOCore

/// Closes a coordinator connection on which no byte has arrived for a while. A live coordinator
/// sends a heartbeat every interval, so a silent one means the connection is dead even when TCP
/// cannot tell: left half-open by a NAT or a partition, or a coordinator stopped outright. Without
/// it the agent waited on such a connection for ever, and its sealed windows with it (found by
/// `quantfleet chaos`). Bytes are counted ahead of TLS, so a model chunk still crawling in over a
/// slow link counts as life.
///
/// Armed as soon as the connection exists, with the handshake's limit, since the Welcome that names
/// the heartbeat interval can itself be lost; the Welcome then tightens it to three intervals.
final class SilenceWatch: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private var limit: Duration
    private let logger: Logger
    private var lastRead = ContinuousClock.now
    private var check: Scheduled<Void>?

    private init(limit: Duration, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    /// Puts a watch at the front of `channel`'s pipeline.
    static func install(on channel: any Channel, limit: Duration, logger: Logger) {
        channel.eventLoop.execute {
            try? channel.pipeline.syncOperations.addHandler(SilenceWatch(limit: limit, logger: logger), position: .first)
        }
    }

    /// Changes the limit of the watch on `channel`, counted from the last byte read.
    static func tighten(on channel: any Channel, to limit: Duration) {
        channel.eventLoop.execute {
            (try? channel.pipeline.syncOperations.handler(type: SilenceWatch.self))?.limit = limit
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastRead = .now
        scheduleCheck(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now
        context.fireChannelRead(data)
    }

    /// Checks four times per limit, so a dead connection is closed at most a quarter late.
    private func scheduleCheck(context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(limit / .nanoseconds(4)))) {
            let silent = ContinuousClock.now - self.lastRead
            guard silent < self.limit else {
                self.logger.warning("no byte from the coordinator within the limit; closing the connection", metadata: [
                    "silent_ms": "\(Int(silent / .milliseconds(1)))", "limit_ms": "\(Int(self.limit / .milliseconds(1)))",
                ])
                context.close(promise: nil)
                return
            }
            self.scheduleCheck(context: context)
        }
    }
}
