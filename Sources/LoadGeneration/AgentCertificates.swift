import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// Issues each simulated agent its own client certificate (CN = agent id) from the fleet CA, in
/// process: a P-256 key and one ECDSA signature cost well under a millisecond, where openssl's
/// process per certificate (make-pki.sh) costs tens. Certificates are cached as `<id>.pem` and
/// `<id>.key` in a directory, and a cached one is reused while it verifies against this CA.
public struct AgentCertificates: Sendable {
    public struct Credentials: Sendable {
        public let certificate: NIOSSLCertificate
        public let privateKey: NIOSSLPrivateKey
    }

    public enum IssueError: Error, CustomStringConvertible {
        case unreadable(role: String, path: String, reason: String)
        case notP256(path: String)

        public var description: String {
            switch self {
            case .unreadable(let role, let path, let reason): "cannot read the fleet CA's \(role) \(path): \(reason)"
            case .notP256(let path): "the fleet CA key \(path) is not a P-256 (ECDSA) key; make-pki.sh makes P-256 keys"
            }
        }
    }

    private let caCertificate: Certificate
    private let caKey: P256.Signing.PrivateKey
    private let directory: URL

    /// The CA as make-pki.sh writes it (`ca.pem`, `ca.key`), and the cache directory (created).
    public init(caCertificate: String, caKey: String, cacheDirectory: URL) throws {
        let certificatePEM = try Self.read(role: "certificate", path: caCertificate)
        let keyPEM = try Self.read(role: "private key", path: caKey)
        do {
            self.caCertificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw IssueError.unreadable(role: "certificate", path: caCertificate, reason: "not a PEM certificate (\(error))")
        }
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM) else { throw IssueError.notP256(path: caKey) }
        self.caKey = key
        self.directory = cacheDirectory
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
    }

    /// The agent's credentials: from the cache if they are there and issued by this CA, else new.
    /// Returns whether they were issued now.
    public func credentials(for agentID: String) throws -> (Credentials, issued: Bool) {
        let certificateFile = directory.appendingPathComponent("\(agentID).pem")
        let keyFile = directory.appendingPathComponent("\(agentID).key")
        if let cached = cached(certificateFile: certificateFile, keyFile: keyFile) { return (cached, false) }
        let key = P256.Signing.PrivateKey()
        let certificate = try issue(agentID: agentID, publicKey: key.publicKey)
        let certificatePEM = try certificate.serializeAsPEM().pemString
        try Data(certificatePEM.utf8).write(to: certificateFile, options: .atomic)
        try Self.writePrivate(key.pemRepresentation, to: keyFile)
        return (try Self.credentials(certificatePEM: certificatePEM, keyPEM: key.pemRepresentation), true)
    }

    /// The same extensions make-pki.sh gives an agent certificate.
    private func issue(agentID: String, publicKey: P256.Signing.PublicKey) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(825 * 86_400),
            issuer: caCertificate.subject,
            subject: try DistinguishedName { CommonName(agentID) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectAlternativeNames([.uniformResourceIdentifier("quantfleet:agent:\(agentID)")])
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
    }

    private func cached(certificateFile: URL, keyFile: URL) -> Credentials? {
        guard let certificatePEM = try? String(contentsOf: certificateFile, encoding: .utf8),
              let keyPEM = try? String(contentsOf: keyFile, encoding: .utf8),
              let certificate = try? Certificate(pemEncoded: certificatePEM),
              certificate.issuer == caCertificate.subject,
              caCertificate.publicKey.isValidSignature(certificate.signature, for: certificate),
              certificate.notValidAfter > Date().addingTimeInterval(86_400)
        else { return nil }
        return try? Self.credentials(certificatePEM: certificatePEM, keyPEM: keyPEM)
    }

    private static func credentials(certificatePEM: String, keyPEM: String) throws -> Credentials {
        Credentials(
            certificate: try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem),
            privateKey: try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
    }

    /// Keys are written readable by the owner only, as make-pki.sh does.
    private static func writePrivate(_ pem: String, to url: URL) throws {
        let path = url.path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data(pem.utf8))
    }

    private static func read(role: String, path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw IssueError.unreadable(role: role, path: path, reason: "\((error as NSError).localizedDescription)")
        }
    }
}
