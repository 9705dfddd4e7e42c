import FleetProtocol
import Logging
import NIOCertificateReloading
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// A daemon's TLS files, kept current while it runs: its certificate and key (rotated files take
/// effect at the next handshake) and the CRL (a newly revoked peer is refused at its next handshake
/// and its open connection closed), each read again every `reloadInterval`, and at once on SIGHUP
/// (`systemctl reload`).
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

    /// Reads the certificate, key and CRL again now: what SIGHUP asks for, and what the timers do.
    public func reload() throws {
        try reloader.reload()
        verification.reloadRevocations()
    }

    /// What reads the files again; part of the daemon's ServiceGroup.
    public func services(logger: Logger) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        [
            .init(service: self.reloader), .init(service: RevocationReloader(verification: self.verification)),
            .init(service: HangupReload(logger: logger) { try self.reload() }),
        ]
    }
}

/// SIGHUP rereads what a daemon can change without a restart (its TLS files) instead of ending it,
/// as `systemctl reload` sends it; a file that cannot be read is logged, and the old one stays.
struct HangupReload: Service {
    let logger: Logger
    let reload: @Sendable () throws -> Void

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try reload()
                logger.notice("SIGHUP: certificate, key and CRL read again")
            } catch {
                logger.error("SIGHUP: the TLS files cannot be read again; the ones loaded stay", metadata: ["error": "\(error)"])
            }
        }
    }
}

private struct RevocationReloader: Service {
    let verification: PeerVerification

    func run() async throws {
        await repeatUntilShutdown(every: DaemonTLS.reloadInterval) { [verification] in verification.reloadRevocations() }
    }
}
