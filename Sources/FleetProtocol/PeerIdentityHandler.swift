import NIOCore
import NIOSSL
import NIOTLS  // TLSUserEvent; comes with NIOSSL, to be listed in Package.swift

/// Sits right after the TLS handler and resolves `identity` with the peer's certificate CN once the
/// handshake completes.
///
/// Every way the handshake can end badly (TLS failure, timeout, close, a certificate without a
/// usable CN) fails `identity`; failures this handler detects itself are also fired down the
/// pipeline, so `ProtocolViolationHandler` logs them and closes the channel like any other error.
final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<String>
    private let handshakeTimeout: TimeAmount
    private var timeout: Scheduled<Void>?
    private var isResolved = false

    var identity: EventLoopFuture<String> { self.promise.futureResult }

    init(eventLoop: any EventLoop, handshakeTimeout: TimeAmount) {
        self.promise = eventLoop.makePromise(of: String.self)
        self.handshakeTimeout = handshakeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let seconds = Double(self.handshakeTimeout.nanoseconds) / 1e9
        self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: self.handshakeTimeout) {
            self.fail(TLSIdentityError.handshakeTimedOut(seconds: seconds), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.resolve(.failure(TLSIdentityError.closedBeforeHandshake))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !self.isResolved {
            do {
                let certificate = try context.pipeline.syncOperations.nioSSL_peerCertificate()
                self.resolve(.success(try FleetTLS.identity(of: certificate)))
            } catch {
                self.fail(error, context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.resolve(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.resolve(.failure(TLSIdentityError.closedBeforeHandshake))
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard !self.isResolved else { return }
        self.resolve(.failure(error))
        context.fireErrorCaught(error)
    }

    private func resolve(_ result: Result<String, any Error>) {
        guard !self.isResolved else { return }
        self.isResolved = true
        self.timeout?.cancel()
        self.promise.completeWith(result)
    }
}
