import FleetProtocol
import Foundation
import XCTest

final class TLSLoadingTests: XCTestCase {
    private var pki: TestPKI!

    override func setUpWithError() throws {
        self.pki = try TestPKI.make()
    }

    override func tearDown() {
        self.pki.remove()
    }

    func testFleetFilesLoadForBothSides() throws {
        XCTAssertNoThrow(try FleetTLS.serverContext(self.pki.coordinator(in: self.pki.fleet)))
        XCTAssertNoThrow(try FleetTLS.clientContext(self.pki.agent("agent-1", in: self.pki.fleet)))
    }

    func testMissingFileIsNamed() throws {
        var files = self.pki.agent("agent-1", in: self.pki.fleet)
        files.trustRoots = "/nonexistent/ca.pem"
        XCTAssertThrowsError(try FleetTLS.clientContext(files)) { error in
            XCTAssertEqual(error as? TLSLoadError, .missingFile(role: "trust roots", path: "/nonexistent/ca.pem"))
            XCTAssertEqual("\(error)", "trust roots file '/nonexistent/ca.pem' does not exist")
        }
    }

    func testFileThatIsNotPEMIsNamed() throws {
        let notPEM = self.pki.root.appendingPathComponent("notes.txt")
        try Data("not a certificate\n".utf8).write(to: notPEM)
        var files = self.pki.agent("agent-1", in: self.pki.fleet)
        files.certificate = notPEM.path
        XCTAssertThrowsError(try FleetTLS.clientContext(files)) { error in
            XCTAssertEqual(error as? TLSLoadError, .notPEM(role: "certificate", path: notPEM.path, expected: "a certificate"))
        }
        files = self.pki.agent("agent-1", in: self.pki.fleet)
        files.privateKey = notPEM.path
        XCTAssertThrowsError(try FleetTLS.clientContext(files)) { error in
            XCTAssertEqual(error as? TLSLoadError, .notPEM(role: "private key", path: notPEM.path, expected: "a private key"))
        }
    }

    func testKeyOfAnotherCertificateIsRefused() throws {
        var files = self.pki.agent("agent-1", in: self.pki.fleet)
        files.privateKey = self.pki.agent("agent-2", in: self.pki.fleet).privateKey
        XCTAssertThrowsError(try FleetTLS.clientContext(files)) { error in
            guard case .keyDoesNotMatch(let certificate, let privateKey, _)? = error as? TLSLoadError else {
                return XCTFail("expected keyDoesNotMatch, got \(error)")
            }
            XCTAssertEqual(certificate, files.certificate)
            XCTAssertEqual(privateKey, files.privateKey)
        }
    }
}
