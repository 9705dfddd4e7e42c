import FleetProtocol
import Foundation
import X509
import XCTest

/// Two unrelated fleets made by the real `Deploy/pki/make-pki.sh` in a temporary directory:
/// `fleet` (agents agent-1, agent-2) and `otherFleet` (agent-1, its own CA).
struct TestPKI {
    let root: URL
    var fleet: URL { self.root.appendingPathComponent("fleet") }
    var otherFleet: URL { self.root.appendingPathComponent("other") }

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // FleetProtocolTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository
        .appendingPathComponent("Deploy/pki/make-pki.sh")

    static func make() throws -> TestPKI {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("fleet-pki-\(UUID().uuidString)")
        let pki = TestPKI(root: root)
        try runScript([pki.fleet.path, "agent-1", "agent-2"])
        try runScript([pki.otherFleet.path, "--ca-name", "Unrelated CA", "agent-1"])
        return pki
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.root)
    }

    /// With `crl`, the fleet's `crl.pem` too (which every run of make-pki.sh signs).
    func coordinator(in fleet: URL, crl: Bool = false) -> TLSFiles {
        TLSFiles(
            certificate: fleet.appendingPathComponent("coordinator.pem").path,
            privateKey: fleet.appendingPathComponent("coordinator.key").path,
            trustRoots: fleet.appendingPathComponent("ca.pem").path,
            crl: crl ? fleet.appendingPathComponent("crl.pem").path : nil
        )
    }

    func agent(_ id: String, in fleet: URL, crl: Bool = false) -> TLSFiles {
        TLSFiles(
            certificate: fleet.appendingPathComponent("agents/\(id).pem").path,
            privateKey: fleet.appendingPathComponent("agents/\(id).key").path,
            trustRoots: fleet.appendingPathComponent("ca.pem").path,
            crl: crl ? fleet.appendingPathComponent("crl.pem").path : nil
        )
    }

    /// Runs make-pki.sh and returns its exit status and standard error.
    @discardableResult
    static func runScript(_ arguments: [String], expectSuccess: Bool = true) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if expectSuccess && process.terminationStatus != 0 {
            throw ScriptFailure(arguments: arguments, status: process.terminationStatus, stderr: stderr)
        }
        return (process.terminationStatus, stderr)
    }

    struct ScriptFailure: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let stderr: String
        var description: String { "make-pki.sh \(arguments) exited \(status): \(stderr)" }
    }
}

extension TestPKI {
    /// Issues, with swift-certificates and the fleet CA's key, a certificate for `key` (an existing
    /// key file of the fleet) valid only between the given dates: what openssl's `x509 -req` cannot
    /// date in the past or the future. Returns the files of that certificate with `key`.
    func issue(
        commonName: String, key: String, usage: ExtendedKeyUsage.Usage, dnsName: String? = nil,
        notValidBefore: Date, notValidAfter: Date
    ) throws -> TLSFiles {
        let ca = try Certificate(pemEncoded: String(contentsOf: self.fleet.appendingPathComponent("ca.pem"), encoding: .utf8))
        let caKey = try Certificate.PrivateKey(pemEncoded: String(contentsOf: self.fleet.appendingPathComponent("ca.key"), encoding: .utf8))
        let keyPath = self.fleet.appendingPathComponent(key).path
        let privateKey = try Certificate.PrivateKey(pemEncoded: String(contentsOfFile: keyPath, encoding: .utf8))
        var extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            try ExtendedKeyUsage([usage])
        }
        if let dnsName { try extensions.append(SubjectAlternativeNames([.dnsName(dnsName)]).makeCertificateExtension()) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter, issuer: ca.subject,
            subject: try DistinguishedName { CommonName(commonName) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: caKey)
        let path = self.root.appendingPathComponent("\(commonName)-\(UUID().uuidString).pem")
        try certificate.serializeAsPEM().pemString.write(to: path, atomically: true, encoding: .utf8)
        return TLSFiles(certificate: path.path, privateKey: keyPath, trustRoots: self.fleet.appendingPathComponent("ca.pem").path)
    }
}
