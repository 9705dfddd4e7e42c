import FleetProtocol
import Foundation
import NIOSSL
import XCTest

/// Certificates outside their validity dates are refused, and the log says which way.
final class CertificateValidityTests: PKITestCase {
    private let day: TimeInterval = 86_400

    func testAnExpiredAgentCertificateIsRefusedAndTheLogSaysExpired() async throws {
        let verification = try PeerVerification(self.pki.coordinator(in: self.pki.fleet, crl: true), logger: self.serverLogs.logger)
        let server = try await EchoFleetServer(
            tls: self.pki.coordinator(in: self.pki.fleet), verification: verification, logger: self.serverLogs.logger)
        let expired = try self.pki.issue(
            commonName: "agent-1", key: "agents/agent-1.key", usage: .clientAuth,
            notValidBefore: Date() - 30 * self.day, notValidAfter: Date() - self.day)
        let refused = await server.echoedIdentity(tls: try FleetTLS.clientContext(expired), logger: self.clientLogs.logger)
        XCTAssertNil(refused)
        XCTAssertTrue(
            self.serverLogs.all.contains { $0.contains("refused peer certificate") && $0.contains("CN=agent-1 expired at") },
            "\(self.serverLogs.all)")

        let current = await server.echoedIdentity(
            tls: try FleetTLS.clientContext(self.pki.agent("agent-1", in: self.pki.fleet)), logger: self.clientLogs.logger)
        XCTAssertEqual(current, "agent-1")
        try await server.stop()
    }

    func testANotYetValidCoordinatorCertificateIsRefusedAndTheLogSaysNotYetValid() async throws {
        let early = try self.pki.issue(
            commonName: "coordinator", key: "coordinator.key", usage: .serverAuth, dnsName: "localhost",
            notValidBefore: Date() + self.day, notValidAfter: Date() + 30 * self.day)
        let server = try await EchoFleetServer(tls: early, logger: self.serverLogs.logger)
        let agent = self.pki.agent("agent-1", in: self.pki.fleet, crl: true)
        let refused = await server.echoedIdentity(
            tls: try FleetTLS.clientContext(agent), verification: try PeerVerification(agent, logger: self.clientLogs.logger),
            logger: self.clientLogs.logger)
        XCTAssertNil(refused)
        XCTAssertTrue(
            self.clientLogs.all.contains { $0.contains("refused peer certificate") && $0.contains("CN=coordinator is not yet valid: valid from") },
            "\(self.clientLogs.all)")
        try await server.stop()
        let seen = await server.identities.seen
        XCTAssertEqual(seen, [])
    }
}
