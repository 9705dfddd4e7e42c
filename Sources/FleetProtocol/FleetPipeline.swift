import Logging
import NIOCore
import NIOSSL

/// Installs the Fleet handlers on a fresh channel, in order: TLS, handshake admission (servers that
/// limit handshakes), peer identity, frame decoder, frame encoder, `ProtocolViolationHandler`, and,
/// given a heartbeat interval, `HeartbeatHandler`. Anything added afterwards (an `NIOAsyncChannel`,
/// a handler of `Quantfleet_V1_Envelope`s) reads and writes envelopes.
///
/// Both calls must run on the channel's event loop (inside a channel initializer). They return the
/// peer's identity, which resolves once the TLS handshake completes.
public enum FleetPipeline {
    /// How long a peer may take to complete the TLS handshake before the connection is dropped.
    public static let defaultHandshakeTimeout: TimeAmount = .seconds(10)

    /// With `admission` (on a channel made with autoRead off), the handshake starts only once
    /// admitted, and `deferred` is told why a connection had to wait. With `verification`, it checks the client's certificate
    /// (revocation included) instead of BoringSSL.
    public static func configureServer(
        _ channel: any Channel,
        context: NIOSSLContext,
        verification: PeerVerification? = nil,
        maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes,
        handshakeTimeout: TimeAmount = defaultHandshakeTimeout,
        admission: HandshakeAdmission? = nil,
        deferred: @escaping @Sendable (HandshakeDeferral) -> Void = { _ in },
        heartbeatInterval: TimeAmount? = nil,
        logger: Logger
    ) throws -> EventLoopFuture<String> {
        try configure(
            channel,
            tls: verification.map { NIOSSLServerHandler(context: context, customVerificationCallback: $0.serverCallback(for: channel)) }
                ?? NIOSSLServerHandler(context: context),
            admission: admission.map { HandshakeAdmissionHandler(admission: $0, deferred: deferred, logger: logger) },
            maxFrameBytes: maxFrameBytes,
            handshakeTimeout: handshakeTimeout,
            heartbeatInterval: heartbeatInterval,
            logger: logger
        )
    }

    /// `serverHostname` is checked against the server certificate's DNS names and sent as SNI.
    /// With `verification`, it checks the server's certificate (revocation included) instead of BoringSSL.
    public static func configureClient(
        _ channel: any Channel,
        context: NIOSSLContext,
        verification: PeerVerification? = nil,
        serverHostname: String,
        maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes,
        handshakeTimeout: TimeAmount = defaultHandshakeTimeout,
        logger: Logger
    ) throws -> EventLoopFuture<String> {
        try configure(
            channel,
            tls: try verification.map {
                try NIOSSLClientHandler(
                    context: context, serverHostname: serverHostname,
                    customVerificationCallback: $0.clientCallback(for: channel, serverHostname: serverHostname))
            } ?? NIOSSLClientHandler(context: context, serverHostname: serverHostname),
            admission: nil,
            maxFrameBytes: maxFrameBytes,
            handshakeTimeout: handshakeTimeout,
            heartbeatInterval: nil,
            logger: logger
        )
    }

    private static func configure(
        _ channel: any Channel,
        tls: NIOSSLHandler,
        admission: HandshakeAdmissionHandler?,
        maxFrameBytes: Int,
        handshakeTimeout: TimeAmount,
        heartbeatInterval: TimeAmount?,
        logger: Logger
    ) throws -> EventLoopFuture<String> {
        let identity = PeerIdentityHandler(eventLoop: channel.eventLoop, handshakeTimeout: handshakeTimeout)
        try channel.pipeline.syncOperations.addHandler(tls)
        if let admission { try channel.pipeline.syncOperations.addHandler(admission) }
        try channel.pipeline.syncOperations.addHandlers(
            identity,
            ByteToMessageHandler(EnvelopeDecoder(maxFrameBytes: maxFrameBytes)),
            MessageToByteHandler(EnvelopeEncoder(maxFrameBytes: maxFrameBytes)),
            ProtocolViolationHandler(logger: logger)
        )
        if let heartbeatInterval { try channel.pipeline.syncOperations.addHandler(HeartbeatHandler(interval: heartbeatInterval, logger: logger)) }
        return identity.identity
    }
}
