/// Where one side's TLS material lives, as PEM file paths (the layout `Deploy/pki/make-pki.sh` writes).
public struct TLSFiles: Sendable, Codable, Equatable {
    /// This side's certificate (leaf first, then any intermediates).
    public var certificate: String
    /// The private key of `certificate`.
    public var privateKey: String
    /// The fleet CA: the only roots a peer's certificate is verified against.
    public var trustRoots: String
    /// The fleet CA's revocation list (`make-pki.sh DIR --revoke NAME` writes DIR/crl.pem), read again
    /// while running; none: no certificate is revoked.
    public var crl: String?

    enum CodingKeys: String, CodingKey {
        case certificate, privateKey = "private-key", trustRoots = "trust-roots", crl
    }

    public init(certificate: String, privateKey: String, trustRoots: String, crl: String? = nil) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.trustRoots = trustRoots
        self.crl = crl
    }
}
