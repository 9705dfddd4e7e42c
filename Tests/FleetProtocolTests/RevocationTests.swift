import FleetProtocol
import Foundation
import NIOCore
import NIOSSL
import XCTest

/// Revocation over real TLS on loopback, with CRLs signed by `make-pki.sh --revoke`.
final class RevocationTests: PKITestCase {
    private func agentTLS(_ id: String) throws -> NIOSSLContext {
        try FleetTLS.clientContext(self.pki.agent(id, in: self.pki.fleet))
    }

    func testRevokedAgentIsRefusedAtItsNextHandshakeAndItsOpenSessionIsClosedOnReload() async throws {
        let verification = try PeerVerification(self.pki.coordinator(in: self.pki.fleet, crl: true), logger: self.serverLogs.logger)
        let server = try await EchoFleetServer(
            tls: self.pki.coordinator(in: self.pki.fleet), verification: verification, logger: self.serverLogs.logger)
        let open = try await FleetClient.connect(
            host: "127.0.0.1", port: server.port, tls: try self.agentTLS("agent-1"), serverHostname: "localhost",
            logger: self.clientLogs.logger)
        try await open.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            try await outbound.write(Envelopes.heartbeat(1))
            let welcomed = try await iterator.next()?.welcome.agentID
            XCTAssertEqual(welcomed, "agent-1")

            try TestPKI.runScript([self.pki.fleet.path, "--revoke", "agent-1"])
            let reloaded = ContinuousClock.now
            verification.reloadRevocations()
            do {
                while try await iterator.next() != nil {}
            } catch {
                // The server closing under TLS may end the stream with an error: closed all the same.
            }
            XCTAssertLessThan(ContinuousClock.now - reloaded, .seconds(5))
        }
        XCTAssertTrue(self.serverLogs.contains("CRL reloaded"), "\(self.serverLogs.all)")
        XCTAssertTrue(self.serverLogs.all.contains { $0.contains("CRL reloaded") && $0.contains("closed=CN=agent-1") }, "\(self.serverLogs.all)")

        let again = await server.echoedIdentity(tls: try self.agentTLS("agent-1"), logger: self.clientLogs.logger)
        XCTAssertNil(again)
        XCTAssertTrue(
            self.serverLogs.all.contains { $0.contains("refused peer certificate") && $0.contains("CN=agent-1") && $0.contains("is revoked by the CRL") },
            "\(self.serverLogs.all)")
        let other = await server.echoedIdentity(tls: try self.agentTLS("agent-2"), logger: self.clientLogs.logger)
        XCTAssertEqual(other, "agent-2")
        try await server.stop()
        let seen = await server.identities.seen
        XCTAssertEqual(seen, ["agent-1", "agent-2"])
    }

    /// A list past its nextUpdate stays in force and is warned about once, not at every reload.
    func testAStaleCRLStaysInForceAndIsWarnedAboutOnce() throws {
        let files = self.pki.coordinator(in: self.pki.fleet, crl: true)
        let fresh = try PeerVerification(files, logger: self.serverLogs.logger)
        fresh.reloadRevocations()
        XCTAssertFalse(self.serverLogs.contains("past its nextUpdate"), "a list just signed is fresh: \(self.serverLogs.all)")

        let aYearOn = try PeerVerification(files, logger: self.clientLogs.logger, now: { Date() + 366 * 86_400 })
        aYearOn.reloadRevocations()
        aYearOn.reloadRevocations()
        let warnings = self.clientLogs.all.filter { $0.contains("the CRL is past its nextUpdate") }
        XCTAssertEqual(warnings.count, 1, "\(self.clientLogs.all)")
        XCTAssertTrue(warnings.first?.contains("crl.pem") ?? false, "names the file: \(warnings)")
    }

    func testAgentRefusesARevokedCoordinatorCertificate() async throws {
        // The server keeps presenting the certificate it loaded; the PKI revokes it (and issues a new one).
        let server = try await EchoFleetServer(tls: self.pki.coordinator(in: self.pki.fleet), logger: self.serverLogs.logger)
        let agent = self.pki.agent("agent-1", in: self.pki.fleet, crl: true)
        let before = await server.echoedIdentity(
            tls: try FleetTLS.clientContext(agent), verification: try PeerVerification(agent, logger: self.clientLogs.logger),
            logger: self.clientLogs.logger)
        XCTAssertEqual(before, "agent-1")

        try TestPKI.runScript([self.pki.fleet.path, "--revoke", "coordinator"])
        let after = await server.echoedIdentity(
            tls: try FleetTLS.clientContext(agent), verification: try PeerVerification(agent, logger: self.clientLogs.logger),
            logger: self.clientLogs.logger)
        XCTAssertNil(after)
        XCTAssertTrue(
            self.clientLogs.all.contains { $0.contains("refused peer certificate") && $0.contains("CN=coordinator") && $0.contains("is revoked by the CRL") },
            "\(self.clientLogs.all)")
        try await server.stop()
        let seen = await server.identities.seen
        XCTAssertEqual(seen, ["agent-1"])
    }
}
