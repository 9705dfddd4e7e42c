import Foundation
import SwiftASN1
import X509

/// An X.509 certificate revocation list (RFC 5280 section 5), read with swift-asn1: swift-certificates
/// has no CRL type. Only what revocation checks need is kept: the issuer, the update times, the
/// revoked serial numbers, and the signed bytes with their signature, so `isSigned(by:)` can check
/// the list came from the CA it names.
///
/// ```
/// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
/// TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name,
///     thisUpdate Time, nextUpdate Time OPTIONAL,
///     revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time, crlEntryExtensions OPTIONAL } OPTIONAL,
///     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
/// ```
public struct CertificateRevocationList: Sendable {
    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date?
    public let revokedSerialNumbers: Set<Certificate.SerialNumber>
    private let signedBytes: ArraySlice<UInt8>
    private let signatureAlgorithm: ASN1ObjectIdentifier
    private let signature: ArraySlice<UInt8>

    /// Reads a CRL in PEM (`-----BEGIN X509 CRL-----`, what `openssl ca -gencrl` writes) or DER.
    public init(bytes: [UInt8]) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("-----BEGIN") {
            let document = try PEMDocument(pemString: text)
            guard document.discriminator == "X509 CRL" else {
                throw ASN1Error.invalidASN1Object(reason: "PEM block is '\(document.discriminator)', not 'X509 CRL'")
            }
            try self.init(derEncoded: DER.parse(document.derBytes))
        } else {
            try self.init(derEncoded: DER.parse(bytes))
        }
    }

    private init(derEncoded root: ASN1Node) throws {
        let (tbs, algorithm, signature) = try DER.sequence(root, identifier: .sequence) { nodes in
            guard let tbs = nodes.next(), let algorithm = nodes.next(), let signature = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "a CertificateList has three fields")
            }
            return (tbs, try Self.algorithm(algorithm), try ASN1BitString(derEncoded: signature))
        }
        self.signedBytes = tbs.encodedBytes
        self.signatureAlgorithm = algorithm
        self.signature = signature.bytes
        let list = try DER.sequence(tbs, identifier: .sequence) { nodes in
            var next = nodes.next()
            if let version = next, version.identifier == .integer { next = nodes.next() }  // v2 is the only version with entries
            guard let inner = next, try Self.algorithm(inner) == algorithm else {
                throw ASN1Error.invalidASN1Object(reason: "the signed and the outer signature algorithms differ")
            }
            guard let issuerNode = nodes.next(), let thisUpdateNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "a CRL names its issuer and thisUpdate")
            }
            let issuer = try DistinguishedName(derEncoded: issuerNode)
            let thisUpdate = try Self.time(thisUpdateNode)
            var nextUpdate: Date?
            var revoked = Set<Certificate.SerialNumber>()
            while let node = nodes.next() {
                switch node.identifier {
                case .utcTime, .generalizedTime:
                    nextUpdate = try Self.time(node)
                case .sequence:
                    revoked = try Self.serialNumbers(node)
                default:
                    break  // crlExtensions [0]: the CRL number and authority key id, not needed to match serials
                }
            }
            return (issuer: issuer, thisUpdate: thisUpdate, nextUpdate: nextUpdate, revoked: revoked)
        }
        self.issuer = list.issuer
        self.thisUpdate = list.thisUpdate
        self.nextUpdate = list.nextUpdate
        self.revokedSerialNumbers = list.revoked
    }

    /// Whether `issuer`'s key signed this list, and the list names it as its issuer.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard issuer.subject == self.issuer, let algorithm = Self.signatureAlgorithms[self.signatureAlgorithm] else {
            return false
        }
        return issuer.publicKey.isValidSignature(self.signature, for: self.signedBytes, signatureAlgorithm: algorithm)
    }

    /// Whether `date` is past the list's nextUpdate: its issuer may have revoked more since.
    public func isStale(at date: Date) -> Bool {
        nextUpdate.map { date > $0 } ?? false
    }

    public func isRevoked(_ certificate: Certificate) -> Bool {
        certificate.issuer == self.issuer && self.revokedSerialNumbers.contains(certificate.serialNumber)
    }

    /// The algorithms a fleet CA can sign with (make-pki.sh uses ECDSA P-256 with SHA-256).
    private static let signatureAlgorithms: [ASN1ObjectIdentifier: Certificate.SignatureAlgorithm] = [
        [1, 2, 840, 10045, 4, 3, 2]: .ecdsaWithSHA256,
        [1, 2, 840, 10045, 4, 3, 3]: .ecdsaWithSHA384,
        [1, 2, 840, 10045, 4, 3, 4]: .ecdsaWithSHA512,
        .AlgorithmIdentifier.sha256WithRSAEncryption: .sha256WithRSAEncryption,
        .AlgorithmIdentifier.sha384WithRSAEncryption: .sha384WithRSAEncryption,
        .AlgorithmIdentifier.sha512WithRSAEncryption: .sha512WithRSAEncryption,
        [1, 3, 101, 112]: .ed25519,
    ]

    /// AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
    private static func algorithm(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        try DER.sequence(node, identifier: .sequence) { nodes in
            guard let oid = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "AlgorithmIdentifier has no OID") }
            while nodes.next() != nil {}  // parameters (NULL for RSA), which the OID already implies
            return try ASN1ObjectIdentifier(derEncoded: oid)
        }
    }

    private static func serialNumbers(_ node: ASN1Node) throws -> Set<Certificate.SerialNumber> {
        guard case .constructed(let entries) = node.content else { throw ASN1Error.unexpectedFieldType(node.identifier) }
        return Set(try entries.map { entry in
            try DER.sequence(entry, identifier: .sequence) { fields in
                guard let serial = fields.next() else { throw ASN1Error.invalidASN1Object(reason: "revoked entry has no serial") }
                while fields.next() != nil {}  // revocationDate and entry extensions: a revoked serial is refused whatever its date
                return Certificate.SerialNumber(bytes: try ArraySlice<UInt8>(derEncoded: serial))
            }
        })
    }

    /// Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }, always UTC in DER.
    private static func time(_ node: ASN1Node) throws -> Date {
        let parts: (year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int)
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        case .generalizedTime:
            let time = try GeneralizedTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        default:
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(
            year: parts.year, month: parts.month, day: parts.day, hour: parts.hours, minute: parts.minutes, second: parts.seconds)
        guard let date = calendar.date(from: components) else {
            throw ASN1Error.invalidASN1Object(reason: "time \(components) is not a date")
        }
        return date
    }
}
