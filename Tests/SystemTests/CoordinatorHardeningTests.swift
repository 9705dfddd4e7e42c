import FleetProtocol
import Foundation
import Ledger
import NIOSSL
import Operations
import XCTest

/// The real coordinator process under bad clients, with a real agent shadowing traffic beside
/// them: each bad connection (no certificate, another CA, bad frames, never a Hello) is closed on
/// its own, and the agent's work goes on undisturbed.
final class CoordinatorHardeningTests: XCTestCase {
    func testBadClientsAreRefusedOneByOneWhileAnAgentKeepsWorking() async throws {
        let fleet = try await SystemTestSupport.startFleet(
            "hardening", certified: ["agent-1", "agent-2"], running: ["agent-1"], for: self)
        let layout = fleet.layout
        let otherCA = FleetLayout(root: layout.root.appendingPathComponent("other"))
        try otherCA.makePKI(script: SystemTestSupport.pkiScript, agents: ["agent-9"], caName: "Some Other CA")

        let port = fleet.coordinatorPort
        let hello = try Envelope(.hello(.with { $0.protocolVersions = [1] })).serializedBytes() as [UInt8]
        let helloFrame = RawTLSProbe.frame(announcing: UInt32(hello.count), body: hello)

        let noCertificate = try client(certificate: nil, trust: layout.pki)
        var outcome = try await RawTLSProbe.send(helloFrame, to: port, using: noCertificate)
        XCTAssertTrue(outcome.closed, "a client without a certificate is refused")
        XCTAssertEqual(outcome.received, 0, "and gets no Welcome")

        let foreign = try client(certificate: (otherCA.pki, "agent-9"), trust: layout.pki)
        outcome = try await RawTLSProbe.send(helloFrame, to: port, using: foreign)
        XCTAssertTrue(outcome.closed, "a client certified by another CA is refused")
        XCTAssertEqual(outcome.received, 0)

        let insider = try client(certificate: (layout.pki, "agent-2"), trust: layout.pki)
        outcome = try await RawTLSProbe.send(RawTLSProbe.frame(announcing: 0x7FFF_FFFF), to: port, using: insider)
        XCTAssertTrue(outcome.closed, "an oversized frame closes the connection")
        outcome = try await RawTLSProbe.send(RawTLSProbe.frame(announcing: 12, body: Array("not protobuf".utf8)), to: port, using: insider)
        XCTAssertTrue(outcome.closed, "a frame that does not decode closes the connection")
        // Finishes TLS and never says Hello: dropped after three heartbeat intervals (2 s each here).
        let started = ContinuousClock.now
        outcome = try await RawTLSProbe.send([], to: port, using: insider, timeout: .seconds(15))
        XCTAssertTrue(outcome.closed, "a client that never says Hello is closed")
        XCTAssertLessThan(started.duration(to: .now), .seconds(12))

        // The coordinator and the agent carried on: traffic still turns into ledger windows.
        try fleet.checkAlive()
        let replay = try await TrafficReplay(options: .init(
            data: SystemTestSupport.traffic, agents: [fleet.agentURLs["agent-1"]!], model: SystemTestSupport.modelName, concurrency: 2, limit: 50)).run { _ in }
        XCTAssertEqual(replay.succeeded, 50)
        let ledger = try Ledger.openReadOnly(path: layout.ledger.path)
        try await SystemTestSupport.eventually(timeout: .seconds(15), "the agent's 50 samples reach the ledger") {
            (try ledger.query("SELECT coalesce(sum(count), 0) FROM windows WHERE agent_id = 'agent-1'").rows.first?.first) == "50"
        }
        let log = try String(contentsOf: layout.log("coordinator"), encoding: .utf8)
        XCTAssertTrue(log.contains("frame"), "the coordinator logged why it closed the bad connections:\n\(log)")
        XCTAssertTrue(log.contains("no frame for 6 s"), "and why it closed the silent one:\n\(log)")
    }

    private func client(certificate: (pki: URL, agent: String)?, trust pki: URL) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.appendingPathComponent("ca.pem").path))
        if let certificate {
            let base = certificate.pki.appendingPathComponent("agents/\(certificate.agent)")
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(base.path + ".pem").map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: base.path + ".key", format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
