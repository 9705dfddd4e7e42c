import Foundation
import NIOConcurrencyHelpers
import X509

/// The fleet's revocation list, read from a file the PKI script rewrites (`make-pki.sh DIR --revoke
/// NAME`), and read again by `reload()` when its bytes change. A list is used only if one of the trust
/// roots signed it; a file that turns bad later keeps the last good list in force (and `reload` says
/// why), so a half-written file never lets a revoked certificate back in.
public final class CRLFile: Sendable {
    public let path: String
    private let issuers: [Certificate]
    private let state: NIOLockedValueBox<(bytes: [UInt8], list: CertificateRevocationList)>

    public init(path: String, issuers: [Certificate]) throws {
        self.path = path
        self.issuers = issuers
        let bytes = try Self.read(path)
        self.state = NIOLockedValueBox((bytes, try Self.verifiedList(bytes, path: path, issuers: issuers)))
    }

    public var current: CertificateRevocationList { self.state.withLockedValue { $0.list } }

    /// The refusal of `certificate` if the list in force revokes it.
    func refusal(of certificate: Certificate) -> PeerCertificateRefusal? {
        guard self.current.isRevoked(certificate) else { return nil }
        return .revoked(subject: "\(certificate.subject)", serialNumber: "\(certificate.serialNumber)")
    }

    /// Reads the file again; returns whether a new list is now in force.
    public func reload() throws -> Bool {
        let bytes = try Self.read(self.path)
        guard bytes != self.state.withLockedValue({ $0.bytes }) else { return false }
        let list = try Self.verifiedList(bytes, path: self.path, issuers: self.issuers)
        self.state.withLockedValue { $0 = (bytes, list) }
        return true
    }

    private static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CRLError.unreadable(path: path)
        }
        return Array(data)
    }

    private static func verifiedList(_ bytes: [UInt8], path: String, issuers: [Certificate]) throws -> CertificateRevocationList {
        let list: CertificateRevocationList
        do {
            list = try CertificateRevocationList(bytes: bytes)
        } catch {
            throw CRLError.notACRL(path: path, reason: "\(error)")
        }
        guard issuers.contains(where: { list.isSigned(by: $0) }) else {
            throw CRLError.notSignedByATrustRoot(path: path, issuer: "\(list.issuer)")
        }
        return list
    }
}

/// Why a CRL file cannot be used; each case names the file.
public enum CRLError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String)
    case notACRL(path: String, reason: String)
    case notSignedByATrustRoot(path: String, issuer: String)

    public var description: String {
        switch self {
        case .unreadable(let path):
            return "CRL file '\(path)' does not exist or is not readable by this process"
        case .notACRL(let path, let reason):
            return "CRL file '\(path)' is not an X.509 CRL in PEM or DER: \(reason)"
        case .notSignedByATrustRoot(let path, let issuer):
            return "CRL file '\(path)' (issuer \(issuer)) is not signed by any of the trust roots"
        }
    }
}
