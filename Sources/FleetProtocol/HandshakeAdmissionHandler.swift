import Logging
import NIOCore
import NIOTLS

/// Sits right after the TLS handler of a channel made with autoRead off: the connection reads
/// nothing, so its TLS handshake cannot start, until `HandshakeAdmission` admits it; then autoRead
/// is turned on. A connection the admission cannot take yet waits on its event loop, trying again
/// after the wait the admission names (a connection that waits too long meets the handshake
/// timeout). An admitted handshake is released when it completes or the connection closes.
final class HandshakeAdmissionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let admission: HandshakeAdmission
    private let deferred: @Sendable (HandshakeDeferral) -> Void
    private let logger: Logger
    private var holdsAdmission = false
    private var waited = false

    init(admission: HandshakeAdmission, deferred: @escaping @Sendable (HandshakeDeferral) -> Void, logger: Logger) {
        self.admission = admission
        self.deferred = deferred
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        admitOrWait(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { release() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func admitOrWait(context: ChannelHandlerContext) {
        guard context.channel.isActive, !holdsAdmission else { return }
        guard let deferral = admission.admit() else {
            holdsAdmission = true
            do {
                try context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            } catch {
                context.fireErrorCaught(error)
            }
            return
        }
        if !waited {
            waited = true
            deferred(deferral)
            logger.debug("TLS handshake waits for admission", metadata: [
                "peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")", "reason": "\(deferral)",
            ])
        }
        let delay = admission.delayBeforeAdmission() ?? .zero
        context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            self.admitOrWait(context: context)
        }
    }

    private func release() {
        guard holdsAdmission else { return }
        holdsAdmission = false
        admission.finished()
    }
}
