import FleetProtocol
import Foundation
import NIOSSL
import X509

/// The PEM files a daemon loads (its certificate, key and trust roots) and the CRL it reloads while
/// running. An input is a certificate in PEM up to its END line, then a CRL (PEM or DER): the
/// certificate is parsed by swift-certificates and BoringSSL, the CRL by our own DER reader, which
/// is then asked whether it revokes the certificate and whether the certificate signed it.
private let endOfCertificate = Array("-----END CERTIFICATE-----".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCertificates(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let split = bytes.firstRange(of: endOfCertificate).map(\.upperBound) ?? 0
    let (certificatePEM, crlBytes) = (Array(bytes[..<split]), Array(bytes[split...]))
    let certificate = try? Certificate(pemEncoded: String(decoding: certificatePEM, as: UTF8.self))
    _ = try? NIOSSLCertificate.fromPEMBytes(certificatePEM)
    _ = try? NIOSSLPrivateKey(bytes: crlBytes, format: .pem)
    if let list = try? CertificateRevocationList(bytes: crlBytes), let certificate {
        _ = list.isRevoked(certificate)
        _ = list.isSigned(by: certificate)
    }
    return 0
}
