import Foundation
import X509

/// What a peer's certificate must pass in the TLS handshake, with a refusal that names the reason.
///
/// swift-nio-ssl's custom verification callback replaces all of BoringSSL's checks, so this does
/// them all: validity dates and revocation first (each with its own message, for the operator
/// reading the log), then the chain to the trust roots and, on the client, the server's DNS name
/// (swift-certificates' RFC 5280 and server identity policies), then the extended key usage.
struct PeerCertificateCheck: Sendable {
    let roots: [Certificate]
    let crl: CRLFile?
    /// `clientAuth` when the peer is a client (checked by the server), `serverAuth` otherwise.
    let usage: ExtendedKeyUsage.Usage
    let serverHostname: String?

    func refusal(of chain: [Certificate], at now: Date) async -> PeerCertificateRefusal? {
        guard let leaf = chain.first else { return .noCertificate }
        let subject = "\(leaf.subject)"
        if now > leaf.notValidAfter { return .expired(subject: subject, notValidAfter: leaf.notValidAfter) }
        if now < leaf.notValidBefore { return .notYetValid(subject: subject, notValidBefore: leaf.notValidBefore) }
        if let revoked = self.crl?.refusal(of: leaf) { return revoked }
        var verifier = Verifier(rootCertificates: CertificateStore(self.roots)) {
            RFC5280Policy(validationTime: now)
            if let serverHostname { ServerIdentityPolicy(serverHostname: serverHostname, serverIP: nil) }
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst())) {
        case .couldNotValidate(let failures):
            return .untrusted(subject: subject, reasons: failures.map { "\($0.policyFailureReason)" })
        case .validCertificate:
            break
        }
        let usages: ExtendedKeyUsage?
        do {
            usages = try leaf.extensions.extendedKeyUsage
        } catch {
            return .unreadableUsage(subject: subject)
        }
        // A certificate without the extension may be used for anything (RFC 5280 section 4.2.1.12).
        if let usages, !usages.contains(self.usage) { return .wrongUsage(subject: subject, required: "\(self.usage)") }
        return nil
    }
}

/// Why a peer's certificate was refused in the handshake.
public enum PeerCertificateRefusal: Error, CustomStringConvertible, Equatable {
    case noCertificate
    case unreadable(String)
    case expired(subject: String, notValidAfter: Date)
    case notYetValid(subject: String, notValidBefore: Date)
    case revoked(subject: String, serialNumber: String)
    case untrusted(subject: String, reasons: [String])
    case unreadableUsage(subject: String)
    case wrongUsage(subject: String, required: String)

    public var description: String {
        switch self {
        case .noCertificate:
            return "the peer presented no certificate"
        case .unreadable(let reason):
            return "the peer's certificate cannot be read: \(reason)"
        case .expired(let subject, let notValidAfter):
            return "certificate \(subject) expired at \(notValidAfter.ISO8601Format())"
        case .notYetValid(let subject, let notValidBefore):
            return "certificate \(subject) is not yet valid: valid from \(notValidBefore.ISO8601Format())"
        case .revoked(let subject, let serialNumber):
            return "certificate \(subject) (serial \(serialNumber)) is revoked by the CRL"
        case .untrusted(let subject, let reasons):
            return "certificate \(subject) fails verification (chain to the trust roots, or server name): \(reasons.joined(separator: "; "))"
        case .unreadableUsage(let subject):
            return "certificate \(subject) has an extended key usage extension that cannot be read"
        case .wrongUsage(let subject, let required):
            return "certificate \(subject) is not issued for \(required)"
        }
    }
}
