import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOConcurrencyHelpers
import X509

/// Verifies peers in swift-nio-ssl's custom verification callback (`PeerCertificateCheck`), against
/// the fleet CA and, with a CRL file, its revocations; logs every refusal with its reason.
///
/// `reloadRevocations()` reads the CRL file again; when it changed, connections already open with a
/// certificate it now revokes are closed at once. The daemons call it periodically.
public final class PeerVerification: Sendable {
    private let roots: [Certificate]
    private let crl: CRLFile?
    private let openPeers = OpenPeers()
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// The nextUpdate of the stale list last warned about: one warning per list, not per reload.
    private let staleWarned = NIOLockedValueBox<Date?>(nil)

    /// Loads `files.trustRoots` and, if set, `files.crl`, with errors that name the file.
    public init(_ files: TLSFiles, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) throws {
        let roots = try Material.loadCertificates(role: "trust roots", path: files.trustRoots).map {
            try Certificate(derEncoded: $0.toDERBytes())
        }
        self.roots = roots
        self.crl = try files.crl.map { try CRLFile(path: $0, issuers: roots) }
        self.logger = logger
        self.now = now
        warnIfStale()
    }

    /// A list past its nextUpdate stays in force (dropping it would let every revoked certificate
    /// back in), but revocations made since it was signed are unknown here: said once per list.
    private func warnIfStale() {
        guard let crl, let nextUpdate = crl.current.nextUpdate, crl.current.isStale(at: now()) else { return }
        let first = staleWarned.withLockedValue { warned in
            defer { warned = nextUpdate }
            return warned != nextUpdate
        }
        guard first else { return }
        logger.warning("the CRL is past its nextUpdate; it stays in force, but revocations made since it was signed are not known here", metadata: [
            "path": "\(crl.path)", "next_update": "\(nextUpdate)",
            "fix": "sign a fresh list (make-pki.sh DIR --revoke NAME re-signs it) and the daemons reload it",
        ])
    }

    /// Reads the CRL file again. A new list refuses its certificates from the next handshake on and
    /// closes their open connections now. A file that cannot be used keeps the previous list in force.
    public func reloadRevocations() {
        guard let crl else { return }
        defer { warnIfStale() }
        do {
            guard try crl.reload() else { return }
        } catch {
            self.logger.error("CRL not reloaded; the previous list stays in force", metadata: ["reason": "\(error)"])
            return
        }
        let list = crl.current
        let closed = self.openPeers.close(where: list.isRevoked)
        self.logger.notice("CRL reloaded", metadata: [
            "path": "\(crl.path)", "revoked": "\(list.revokedSerialNumbers.count)",
            "closed": "\(closed.joined(separator: ", "))",
        ])
    }

    /// Why the certificate `channel`'s peer presented is revoked now, if it is: for servers whose TLS
    /// handler someone else builds (the admin API), checked per request.
    public func revocation(of channel: any Channel) async throws -> PeerCertificateRefusal? {
        guard let crl, let presented = try await channel.nioSSL_peerCertificate().get() else { return nil }
        return crl.refusal(of: try Certificate(derEncoded: presented.toDERBytes()))
    }

    /// The callback for a server's handler on `channel`: the client must hold a `clientAuth` certificate.
    func serverCallback(for channel: any Channel) -> NIOSSLCustomVerificationCallback {
        self.callback(for: channel, PeerCertificateCheck(roots: self.roots, crl: self.crl, usage: .clientAuth, serverHostname: nil))
    }

    /// The callback for a client's handler on `channel`: the server must hold a `serverAuth`
    /// certificate for `serverHostname`.
    func clientCallback(for channel: any Channel, serverHostname: String) -> NIOSSLCustomVerificationCallback {
        self.callback(
            for: channel, PeerCertificateCheck(roots: self.roots, crl: self.crl, usage: .serverAuth, serverHostname: serverHostname))
    }

    private func callback(for channel: any Channel, _ check: PeerCertificateCheck) -> NIOSSLCustomVerificationCallback {
        { [logger, openPeers, now] presented, promise in
            let chain: [Certificate]
            do {
                chain = try presented.map { try Certificate(derEncoded: $0.toDERBytes()) }
            } catch {
                Self.refuse(.unreadable("\(error)"), channel: channel, logger: logger, promise: promise)
                return
            }
            Task {
                // Tracked before the revocation check, so a CRL reloaded meanwhile still reaches it.
                if let leaf = chain.first { openPeers.add(channel, certificate: leaf) }
                if let refusal = await check.refusal(of: chain, at: now()) {
                    Self.refuse(refusal, channel: channel, logger: logger, promise: promise)
                } else {
                    promise.succeed(.certificateVerified)
                }
            }
        }
    }

    private static func refuse(
        _ refusal: PeerCertificateRefusal, channel: any Channel, logger: Logger,
        promise: EventLoopPromise<NIOSSLVerificationResult>
    ) {
        logger.warning("refused peer certificate", metadata: [
            "reason": "\(refusal)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "unknown")",
        ])
        promise.succeed(.failed)
    }
}
