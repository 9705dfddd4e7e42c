import FleetProtocol
import Foundation
import NIOSSL
import XCTest

/// Certificates and keys replaced on disk take effect at the next handshake, without a restart
/// (swift-nio-extras' TimedCertificateReloader; `reload()` stands in for its timer).
final class CertificateRotationTests: PKITestCase {
    func testARotatedCoordinatorCertificateIsPresentedWithoutARestart() async throws {
        let files = self.pki.coordinator(in: self.pki.fleet)
        let reloader = try FleetTLS.certificateReloader(files, every: .seconds(3600), logger: self.serverLogs.logger)
        let server = try await EchoFleetServer(tls: files, reloader: reloader, logger: self.serverLogs.logger)
        let agent = self.pki.agent("agent-1", in: self.pki.fleet, crl: true)
        let verification = try PeerVerification(agent, logger: self.clientLogs.logger)
        let agentTLS = try FleetTLS.clientContext(agent)

        let before = await server.echoedIdentity(
            tls: agentTLS, verification: verification, serverHostname: "coordinator.test", logger: self.clientLogs.logger)
        XCTAssertNil(before, "the first certificate names localhost only")
        XCTAssertTrue(self.clientLogs.contains("fails verification"), "\(self.clientLogs.all)")

        // A new certificate (and key) with a second DNS name, written over the files the server runs with.
        try TestPKI.runScript([self.pki.fleet.path, "--coordinator-dns", "localhost", "--coordinator-dns", "coordinator.test"])
        try reloader.reload()
        let after = await server.echoedIdentity(
            tls: agentTLS, verification: verification, serverHostname: "coordinator.test", logger: self.clientLogs.logger)
        XCTAssertEqual(after, "agent-1")
        try await server.stop()
    }

    func testARotatedAgentCertificateIsPresentedWithoutARestart() async throws {
        let verification = try PeerVerification(self.pki.coordinator(in: self.pki.fleet, crl: true), logger: self.serverLogs.logger)
        let server = try await EchoFleetServer(
            tls: self.pki.coordinator(in: self.pki.fleet), verification: verification, logger: self.serverLogs.logger)
        let files = self.pki.agent("agent-1", in: self.pki.fleet)
        let reloader = try FleetTLS.certificateReloader(files, every: .seconds(3600), logger: self.clientLogs.logger)
        let agentTLS = try FleetTLS.clientContext(files, reloader: reloader)

        // Revoked and re-keyed in one run; the agent still holds the revoked pair until it reloads.
        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1", "agent-1"])
        verification.reloadRevocations()
        let stale = await server.echoedIdentity(tls: agentTLS, logger: self.clientLogs.logger)
        XCTAssertNil(stale)

        try reloader.reload()
        let rotated = await server.echoedIdentity(tls: agentTLS, logger: self.clientLogs.logger)
        XCTAssertEqual(rotated, "agent-1")
        try await server.stop()
    }
}
