/// Why TLS material could not be loaded. Every case names the file so an operator can fix it.
public enum TLSLoadError: Error, CustomStringConvertible, Equatable {
    case missingFile(role: String, path: String)
    case unreadableFile(role: String, path: String)
    case notPEM(role: String, path: String, expected: String)
    case keyDoesNotMatch(certificate: String, privateKey: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let role, let path):
            return "\(role) file '\(path)' does not exist"
        case .unreadableFile(let role, let path):
            return "\(role) file '\(path)' is not readable by this process"
        case .notPEM(let role, let path, let expected):
            return "\(role) file '\(path)' does not contain \(expected) in PEM format"
        case .keyDoesNotMatch(let certificate, let privateKey, let reason):
            return "private key '\(privateKey)' cannot be used with certificate '\(certificate)' "
                + "(the key does not match the certificate's public key): \(reason)"
        }
    }
}

/// Why a connection has no usable peer identity.
public enum TLSIdentityError: Error, CustomStringConvertible, Equatable {
    case noPeerCertificate
    case noCommonName
    case ambiguousCommonName([String])
    case handshakeTimedOut(seconds: Double)
    case closedBeforeHandshake

    public var description: String {
        switch self {
        case .noPeerCertificate:
            return "the peer presented no verified certificate"
        case .noCommonName:
            return "the peer's certificate has no subject common name (CN) to identify it"
        case .ambiguousCommonName(let names):
            return "the peer's certificate has \(names.count) subject common names (\(names.joined(separator: ", "))); exactly one is required"
        case .handshakeTimedOut(let seconds):
            return "the TLS handshake did not complete within \(seconds) s"
        case .closedBeforeHandshake:
            return "the connection closed before the TLS handshake completed"
        }
    }
}
