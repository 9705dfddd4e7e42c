import FleetProtocol
import Logging
import NIOCertificateReloading
import NIOSSL
import ServiceLifecycle

/// A daemon's TLS files, kept current while it runs: its certificate and key (rotated files take
/// effect at the next handshake) and the CRL (a newly revoked peer is refused at its next handshake
/// and its open connection closed), each read again every `reloadInterval`.
public struct DaemonTLS: Sendable {
    public static let reloadInterval: Duration = .seconds(5)

    public let files: TLSFiles
    public let verification: PeerVerification
    public let reloader: TimedCertificateReloader

    /// `clock` is what certificate validity is judged by.
    public init(_ files: TLSFiles, logger: Logger, clock: WallClock = .system) throws {
        self.files = files
        self.verification = try PeerVerification(files, logger: logger, now: clock.now)
        self.reloader = try FleetTLS.certificateReloader(files, every: Self.reloadInterval, logger: logger)
    }

    public func serverContext() throws -> NIOSSLContext {
        try FleetTLS.serverContext(self.files, reloader: self.reloader)
    }

    public func clientContext() throws -> NIOSSLContext {
        try FleetTLS.clientContext(self.files, reloader: self.reloader)
    }

    /// What reads the files again; part of the daemon's ServiceGroup.
    public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        [.init(service: self.reloader), .init(service: RevocationReloader(verification: self.verification))]
    }
}

private struct RevocationReloader: Service {
    let verification: PeerVerification

    func run() async throws {
        await repeatUntilShutdown(every: DaemonTLS.reloadInterval) { [verification] in verification.reloadRevocations() }
    }
}
