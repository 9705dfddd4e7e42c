import FleetProtocol
import Foundation
import SwiftASN1
import X509
import XCTest

/// The CRL reader against real lists signed by `openssl ca` (through make-pki.sh).
final class CertificateRevocationListTests: PKITestCase {
    private func certificate(_ relative: String, in fleet: URL) throws -> Certificate {
        try Certificate(pemEncoded: String(contentsOf: fleet.appendingPathComponent(relative), encoding: .utf8))
    }

    private var crlPath: String { self.pki.fleet.appendingPathComponent("crl.pem").path }

    func testReadsTheRevokedSerialsAndChecksTheSignatureOfTheCA() throws {
        let revoked = try self.certificate("agents/agent-1.pem", in: self.pki.fleet)
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1"])
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-2"])
        let list = try CertificateRevocationList(bytes: Array(Data(contentsOf: URL(fileURLWithPath: self.crlPath))))

        let ca = try self.certificate("ca.pem", in: self.pki.fleet)
        XCTAssertEqual(list.issuer, ca.subject)
        XCTAssertEqual(list.revokedSerialNumbers.count, 2, "revocations accumulate across runs")
        XCTAssertTrue(list.isRevoked(revoked))
        XCTAssertFalse(list.isRevoked(try self.certificate("coordinator.pem", in: self.pki.fleet)))
        XCTAssertNotNil(list.nextUpdate)
        XCTAssertTrue(list.isSigned(by: ca))
        XCTAssertFalse(list.isSigned(by: try self.certificate("ca.pem", in: self.pki.otherFleet)))
    }

    func testAListWithAChangedByteIsNotSigned() throws {
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1"])
        let pem = try String(contentsOfFile: self.crlPath, encoding: .utf8)
        let der = try PEMDocument(pemString: pem).derBytes
        let ca = try self.certificate("ca.pem", in: self.pki.fleet)
        // The last byte of the revoked serial, inside the signed part.
        let list = try CertificateRevocationList(bytes: der)
        let serial = Array(try XCTUnwrap(list.revokedSerialNumbers.first).bytes)
        let at = try XCTUnwrap(der.firstRange(of: serial)).upperBound - 1
        var tampered = der
        tampered[at] ^= 0x01
        let edited = try CertificateRevocationList(bytes: tampered)
        XCTAssertTrue(list.isSigned(by: ca))
        XCTAssertFalse(edited.isSigned(by: ca))
    }

    func testAFileThatIsNotACRLOrNotSignedByTheRootsIsNamed() throws {
        let ca = try self.certificate("ca.pem", in: self.pki.fleet)
        let notACRL = self.pki.fleet.appendingPathComponent("ca.pem").path
        XCTAssertThrowsError(try CRLFile(path: notACRL, issuers: [ca])) { error in
            XCTAssertTrue("\(error)".hasPrefix("CRL file '\(notACRL)' is not an X.509 CRL"), "\(error)")
        }
        let stranger = self.pki.otherFleet.appendingPathComponent("crl.pem").path
        XCTAssertThrowsError(try CRLFile(path: stranger, issuers: [ca])) { error in
            XCTAssertEqual(error as? CRLError, .notSignedByATrustRoot(path: stranger, issuer: "CN=Unrelated CA"))
        }
        XCTAssertThrowsError(try CRLFile(path: "/nonexistent/crl.pem", issuers: [ca])) { error in
            XCTAssertEqual(error as? CRLError, .unreadable(path: "/nonexistent/crl.pem"))
        }
    }

    func testReloadTakesANewListAndKeepsTheLastGoodOneWhenTheFileTurnsBad() throws {
        let ca = try self.certificate("ca.pem", in: self.pki.fleet)
        let agent = try self.certificate("agents/agent-1.pem", in: self.pki.fleet)
        let file = try CRLFile(path: self.crlPath, issuers: [ca])
        XCTAssertFalse(try file.reload(), "unchanged file")
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1"])
        XCTAssertTrue(try file.reload())
        XCTAssertTrue(file.current.isRevoked(agent))

        try Data("-----BEGIN X509 CRL-----\nhalf\n".utf8).write(to: URL(fileURLWithPath: self.crlPath))
        XCTAssertThrowsError(try file.reload())
        XCTAssertTrue(file.current.isRevoked(agent), "a bad file keeps the last good list in force")
    }
}
