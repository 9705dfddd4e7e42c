import Logging
import NIOCore
import NIOTLS

/// Sits right after the TLS handler: when the connection becomes active, asks `HandshakeAdmission`
/// whether its handshake may start, and closes it at once if not, before the server reads a byte of
/// the ClientHello. An admitted handshake is released when it completes or the connection closes.
final class HandshakeAdmissionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let admission: HandshakeAdmission
    private let refused: @Sendable (HandshakeRefusal) -> Void
    private let logger: Logger
    private var holdsAdmission = false

    init(admission: HandshakeAdmission, refused: @escaping @Sendable (HandshakeRefusal) -> Void, logger: Logger) {
        self.admission = admission
        self.refused = refused
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal = admission.admit() {
            logger.info("connection refused before its TLS handshake", metadata: [
                "peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")", "reason": "\(refusal)",
            ])
            refused(refusal)
            context.close(promise: nil)
            return
        }
        holdsAdmission = true
        context.fireChannelActive()
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

    private func release() {
        guard holdsAdmission else { return }
        holdsAdmission = false
        admission.finished()
    }
}
