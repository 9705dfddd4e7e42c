import Crypto
import FleetProtocol
import Foundation

/// Signed model manifests: the coordinator signs what it registers with an Ed25519 key, agents verify
/// with the public half before loading anything. Keys are the PEM files OpenSSL writes
/// (`openssl genpkey -algorithm ed25519`, `openssl pkey -pubout`); `Deploy/pki/make-pki.sh` makes both.
public enum ManifestSigning {
    public enum SigningError: Error, CustomStringConvertible, Equatable {
        case unreadableKey(path: String)
        case notAnEd25519Key(path: String)
        case unsigned(sha256: String)
        case badSignature(sha256: String)
        case untrustedKey(sha256: String, reason: String)
        case manifestMismatch(sha256: String, field: String)

        public var description: String {
            switch self {
            case .unreadableKey(let path): "signing key \(path) cannot be read"
            case .notAnEd25519Key(let path): "\(path) is not an Ed25519 key in PEM (PKCS#8 private or SubjectPublicKeyInfo public)"
            case .unsigned(let sha256): "model \(sha256) comes without a signed manifest, and this agent requires one"
            case .badSignature(let sha256): "the manifest of model \(sha256) does not verify with the coordinator's public key"
            case .untrustedKey(let sha256, let reason): "the manifest of model \(sha256) is refused: \(reason)"
            case .manifestMismatch(let sha256, let field):
                "the signed manifest of model \(sha256) disagrees with the assignment on \(field)"
            }
        }
    }

    // DER before the 32 key bytes: PKCS#8 PrivateKeyInfo and SubjectPublicKeyInfo for id-Ed25519 (RFC 8410).
    private static let privateKeyPrefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    private static let publicKeyPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    public static func privateKey(pemFile path: String) throws -> Curve25519.Signing.PrivateKey {
        try Curve25519.Signing.PrivateKey(rawRepresentation: keyBytes(pemFile: path, prefix: privateKeyPrefix))
    }

    public static func publicKey(pemFile path: String) throws -> Curve25519.Signing.PublicKey {
        try Curve25519.Signing.PublicKey(rawRepresentation: keyBytes(pemFile: path, prefix: publicKeyPrefix))
    }

    public static func sign(_ manifest: ModelManifest, with key: Curve25519.Signing.PrivateKey) throws -> SignedManifest {
        let bytes = try manifest.serializedData()
        return try SignedManifest.with {
            $0.manifest = bytes
            $0.signature = try key.signature(for: bytes)
            $0.keyID = TrustedSigningKeys.keyID(of: key.publicKey)
        }
    }

    /// The manifest of `model` if a trusted key signed it and it names the same bytes.
    @discardableResult
    public static func verify(_ model: ModelRef, trusting keys: TrustedSigningKeys) throws -> ModelManifest {
        guard model.hasManifest else { throw SigningError.unsigned(sha256: model.sha256) }
        let verified: Bool
        do {
            verified = try keys.isValidSignature(
                model.manifest.signature, of: model.manifest.manifest, keyID: model.manifest.hasKeyID ? model.manifest.keyID : nil)
        } catch {
            throw SigningError.untrustedKey(sha256: model.sha256, reason: "\(error)")
        }
        guard verified, let manifest = try? ModelManifest(serializedBytes: model.manifest.manifest)
        else { throw SigningError.badSignature(sha256: model.sha256) }
        guard manifest.sha256 == model.sha256 else { throw SigningError.manifestMismatch(sha256: model.sha256, field: "sha256") }
        guard manifest.sizeBytes == model.sizeBytes else {
            throw SigningError.manifestMismatch(sha256: model.sha256, field: "size")
        }
        return manifest
    }

    private static func keyBytes(pemFile path: String, prefix: [UInt8]) throws -> [UInt8] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SigningError.unreadableKey(path: path) }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body).map(Array.init), der.count == prefix.count + 32,
              der.starts(with: prefix)
        else { throw SigningError.notAnEd25519Key(path: path) }
        return Array(der.suffix(32))
    }
}
