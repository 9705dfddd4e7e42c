import Crypto
import Foundation

/// The Ed25519 public keys whose signatures an agent accepts, each named by its key id. Signed
/// metadata names the key that signed it, so the coordinator can move to a new key while agents
/// trust both the old and the new one: a key is rotated without a fleet-wide outage.
public struct TrustedSigningKeys: Sendable {
    public enum TrustError: Error, CustomStringConvertible, Equatable {
        case unknownKeyID(String, trusted: [String])

        public var description: String {
            switch self {
            case .unknownKeyID(let keyID, let trusted):
                "it is signed by key \(keyID), which this agent does not trust (trusted: \(trusted.joined(separator: ", ")))"
            }
        }
    }

    private let keys: [String: Curve25519.Signing.PublicKey]

    /// A key listed twice (say as `coordinator-signing-key` and in `trusted-signing-keys`) counts once.
    public init(_ keys: [Curve25519.Signing.PublicKey]) {
        self.keys = Dictionary(keys.map { (Self.keyID(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads each public key file (PEM, as `openssl pkey -pubout` writes it).
    public init(pemFiles paths: [String]) throws {
        try self.init(paths.map(ManifestSigning.publicKey(pemFile:)))
    }

    /// The first 16 hex digits of the SHA-256 of the raw public key: derived, so it cannot be
    /// configured wrong, and short enough to read in a log line.
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        SHA256.hash(data: key.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    public var isEmpty: Bool { keys.isEmpty }

    public var keyIDs: [String] { keys.keys.sorted() }

    /// Whether `signature` over `bytes` verifies with the trusted key named `keyID`. Metadata signed
    /// before key ids existed names none: then any trusted key may have signed it.
    public func isValidSignature(_ signature: Data, of bytes: Data, keyID: String?) throws -> Bool {
        guard let keyID else { return keys.values.contains { $0.isValidSignature(signature, for: bytes) } }
        guard let key = keys[keyID] else { throw TrustError.unknownKeyID(keyID, trusted: keyIDs) }
        return key.isValidSignature(signature, for: bytes)
    }
}
