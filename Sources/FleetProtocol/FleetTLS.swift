import Foundation
import Logging
import NIOCertificateReloading
import NIOCore
import NIOSSL

/// TLS 1.3 with certificates on both sides, verified against the fleet CA only (never the system
/// roots): an agent is whoever holds a certificate the fleet CA issued, named by its subject CN.
public enum FleetTLS {
    /// A context for the coordinator: requires a client certificate issued by `files.trustRoots`.
    /// With `reloader`, each handshake presents the certificate and key it last read.
    public static func serverContext(_ files: TLSFiles, reloader: TimedCertificateReloader? = nil) throws -> NIOSSLContext {
        try NIOSSLContext(configuration: serverConfiguration(files, reloader: reloader))
    }

    /// The same server policy as a configuration, for servers that build their own context
    /// (the coordinator's admin API runs on Hummingbird's TLS channel).
    public static func serverConfiguration(_ files: TLSFiles, reloader: TimedCertificateReloader? = nil) throws -> TLSConfiguration {
        let material = try Material(files)
        var configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: material.chain.map { .certificate($0) },
            privateKey: .privateKey(material.key),
            trustRoots: .certificates(material.roots)
        )
        configuration.minimumTLSVersion = .tlsv13
        if let reloader { configuration.setCertificateReloader(reloader) }
        return configuration
    }

    /// A context for an agent (or operator tool): verifies the server's chain against
    /// `files.trustRoots` and its DNS name against the `serverHostname` given per connection.
    /// With `reloader`, each handshake presents the certificate and key it last read.
    public static func clientContext(_ files: TLSFiles, reloader: TimedCertificateReloader? = nil) throws -> NIOSSLContext {
        let material = try Material(files)
        return try clientContext(chain: material.chain, key: material.key, roots: material.roots, reloader: reloader)
    }

    /// The same client policy for material already in memory (a load generator issues its agents'
    /// certificates in process and keeps thousands of them).
    public static func clientContext(
        chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, roots: [NIOSSLCertificate], reloader: TimedCertificateReloader? = nil
    ) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = .certificates(roots)
        configuration.certificateChain = chain.map { .certificate($0) }
        configuration.privateKey = .privateKey(key)
        if let reloader { configuration.setCertificateReloader(reloader) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Reads `files.certificate` and `files.privateKey` now and again every `interval` (as a
    /// Service, or by `reload()`), so rotated files take effect without a restart. A pair that does
    /// not match (files caught mid-rotation) is skipped and the previous pair kept.
    public static func certificateReloader(_ files: TLSFiles, every interval: Duration, logger: Logger) throws -> TimedCertificateReloader {
        try TimedCertificateReloader.makeReloaderValidatingSources(
            refreshInterval: interval,
            certificateSource: .init(location: .file(path: files.certificate), format: .pem),
            privateKeySource: .init(location: .file(path: files.privateKey), format: .pem),
            logger: logger)
    }

    /// The peer's identity from its verified certificate: the subject CN.
    /// Call after the handshake; fails with `TLSIdentityError` if there is none.
    public static func peerIdentity(of channel: any Channel) -> EventLoopFuture<String> {
        channel.nioSSL_peerCertificate().flatMapThrowing { try identity(of: $0) }
    }

    /// The identity a verified certificate carries: its single, non-empty subject CN.
    static func identity(of certificate: NIOSSLCertificate?) throws -> String {
        guard let certificate else { throw TLSIdentityError.noPeerCertificate }
        let names = certificate.subjectName.filter { $0.type == .commonName }.map(\.value)
        guard names.count <= 1 else { throw TLSIdentityError.ambiguousCommonName(names) }
        guard let name = names.first, !name.isEmpty else { throw TLSIdentityError.noCommonName }
        return name
    }
}

/// One side's certificate chain, key and trust roots, loaded with errors that name the file.
struct Material {
    let files: TLSFiles
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    let roots: [NIOSSLCertificate]

    init(_ files: TLSFiles) throws {
        self.files = files
        self.chain = try Self.loadCertificates(role: "certificate", path: files.certificate)
        try Self.checkReadable(role: "private key", path: files.privateKey)
        do {
            self.key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            throw TLSLoadError.notPEM(role: "private key", path: files.privateKey, expected: "a private key")
        }
        self.roots = try Self.loadCertificates(role: "trust roots", path: files.trustRoots)
        try self.checkKeyMatchesCertificate()
    }

    /// BoringSSL refuses, when a context is built, a key that does not belong to the leaf
    /// certificate; a context with nothing but the two isolates that failure from any other.
    private func checkKeyMatchesCertificate() throws {
        let keyPair = TLSConfiguration.makeServerConfiguration(
            certificateChain: self.chain.map { .certificate($0) },
            privateKey: .privateKey(self.key)
        )
        do {
            _ = try NIOSSLContext(configuration: keyPair)
        } catch {
            throw TLSLoadError.keyDoesNotMatch(
                certificate: self.files.certificate,
                privateKey: self.files.privateKey,
                reason: String(describing: error)
            )
        }
    }

    static func loadCertificates(role: String, path: String) throws -> [NIOSSLCertificate] {
        try checkReadable(role: role, path: path)
        let certificates = try? NIOSSLCertificate.fromPEMFile(path)
        guard let certificates, !certificates.isEmpty else {
            throw TLSLoadError.notPEM(role: role, path: path, expected: "a certificate")
        }
        return certificates
    }

    private static func checkReadable(role: String, path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TLSLoadError.missingFile(role: role, path: path)
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSLoadError.unreadableFile(role: role, path: path)
        }
    }
}
