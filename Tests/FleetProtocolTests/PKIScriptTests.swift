import Foundation
import XCTest

final class PKIScriptTests: XCTestCase {
    private var pki: TestPKI!

    override func setUpWithError() throws {
        self.pki = try TestPKI.make()
    }

    override func tearDown() {
        self.pki.remove()
    }

    private func path(_ relative: String) -> String {
        self.pki.fleet.appendingPathComponent(relative).path
    }

    func testWritesEveryFileWithPrivateKeysReadableByTheOwnerOnly() throws {
        for key in ["ca.key", "coordinator.key", "agents/agent-1.key", "agents/agent-2.key", "operators/operator.key"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: self.path(key))
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, key)
        }
        for certificate in ["ca.pem", "coordinator.pem", "agents/agent-1.pem", "operators/operator.pem"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: self.path(certificate)), certificate)
        }
    }

    func testRerunKeepsTheCAAndExistingAgentsAndAddsNewOnes() throws {
        let ca = try Data(contentsOf: URL(fileURLWithPath: self.path("ca.pem")))
        let agent = try Data(contentsOf: URL(fileURLWithPath: self.path("agents/agent-1.pem")))
        try TestPKI.runScript([self.pki.fleet.path, "agent-1", "agent-3"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: self.path("ca.pem"))), ca)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: self.path("agents/agent-1.pem"))), agent)
        XCTAssertTrue(FileManager.default.fileExists(atPath: self.path("agents/agent-3.pem")))
    }

    func testRefusesAnAgentIdOutsideTheAllowedCharacters() throws {
        for badId in ["agent one", "agent/1", "agent:1", "ägent"] {
            let result = try TestPKI.runScript([self.pki.fleet.path, badId], expectSuccess: false)
            XCTAssertNotEqual(result.status, 0, badId)
            XCTAssertTrue(result.stderr.contains("agent id '\(badId)' is invalid"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: self.path("agents/agent one.pem")))
    }

    func testRevocationsAccumulateAndARevokedLeafIsIssuedAnew() throws {
        let revoked = try Data(contentsOf: URL(fileURLWithPath: self.path("agents/agent-1.pem")))
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1", "agent-1"])
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "operator"])
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-2", "--revoke", "agent-2"])  // twice is harmless
        let index = try String(contentsOfFile: self.path("index.txt"), encoding: .utf8)
        XCTAssertEqual(index.split(separator: "\n").filter { $0.hasPrefix("R") }.count, 3, index)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: self.path("agents/agent-1.pem"))), revoked)
        XCTAssertTrue(FileManager.default.fileExists(atPath: self.path("operators/operator.pem")))
        let missing = try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-9"], expectSuccess: false)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--revoke agent-9: no certificate at"), missing.stderr)
    }

    func testAPKIMadeBeforeRevocationGetsItsCADatabaseOnFirstUse() throws {
        for file in ["index.txt", "crlnumber", "serial", "crl.pem"] {
            try FileManager.default.removeItem(atPath: self.path(file))
        }
        let ca = try Data(contentsOf: URL(fileURLWithPath: self.path("ca.pem")))
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: self.path("ca.pem"))), ca)
        for file in ["index.txt", "crlnumber", "serial", "crl.pem"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: self.path(file)), file)
        }
    }

    func testRefusesAnIPAddressAsCoordinatorName() throws {
        let result = try TestPKI.runScript(
            [self.pki.fleet.path, "--coordinator-dns", "127.0.0.1"], expectSuccess: false)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("is an IP address"), result.stderr)
    }
}
