import FleetProtocol
import Logging
import NIOCore
import NIOSSL
import XCTest

final class MutualTLSTests: PKITestCase {
    private func startServer(in fleet: URL? = nil, maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes) async throws -> EchoFleetServer {
        try await EchoFleetServer(
            tls: self.pki.coordinator(in: fleet ?? self.pki.fleet), maxFrameBytes: maxFrameBytes,
            logger: self.serverLogs.logger)
    }

    private func connect(
        _ server: EchoFleetServer, tls: NIOSSLContext, serverHostname: String = "localhost"
    ) async throws -> FleetConnection {
        try await FleetClient.connect(
            host: "127.0.0.1", port: server.port, tls: tls, serverHostname: serverHostname,
            logger: self.clientLogs.logger)
    }

    private func connectAgent(_ id: String, to server: EchoFleetServer) async throws -> FleetConnection {
        try await self.connect(server, tls: FleetTLS.clientContext(self.pki.agent(id, in: self.pki.fleet)))
    }

    /// Sends a Heartbeat and returns the identity the server echoes in its Welcome.
    private func identityEchoed(
        by inbound: inout NIOAsyncChannelInboundStream<Quantfleet_V1_Envelope>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<Quantfleet_V1_Envelope>
    ) async throws -> String? {
        try await outbound.write(Envelopes.heartbeat(1))
        return try await inbound.next()?.welcome.agentID
    }

    /// Everything the peer sent before the connection ended, and whether it ended with an error.
    private func drain(_ connection: FleetConnection, after first: Quantfleet_V1_Envelope? = nil) async -> [Quantfleet_V1_Envelope] {
        var received: [Quantfleet_V1_Envelope] = []
        try? await connection.channel.executeThenClose { inbound, outbound in
            if let first { try await outbound.write(first) }
            for try await envelope in inbound { received.append(envelope) }
        }
        return received
    }

    func testAgentIsIdentifiedByItsCertificateCommonName() async throws {
        let server = try await self.startServer()
        let connection = try await self.connectAgent("agent-1", to: server)
        XCTAssertEqual(connection.identity, "coordinator")
        try await connection.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let echoed = try await self.identityEchoed(by: &iterator, outbound: outbound)
            XCTAssertEqual(echoed, "agent-1")
        }
        try await server.stop()
        let seen = await server.identities.seen
        XCTAssertEqual(seen, ["agent-1"])
    }

    /// TCP_NODELAY at the TCP level. NIO's `socketOption(.tcp_nodelay)` names SOL_SOCKET's option 1,
    /// SO_DEBUG, which only root may set: an agent run as any other user failed every connection.
    func testConnectionsTurnOffNagleAndSetNoDebugOption() async throws {
        let server = try await self.startServer()
        let connection = try await self.connectAgent("agent-1", to: server)
        let channel = connection.channel.channel
        let noDelay = try await channel.getOption(.tcpOption(.tcp_nodelay)).get()
        let debug = try await channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).get()
        XCTAssertNotEqual(noDelay, 0)
        XCTAssertEqual(debug, 0)
        try await connection.channel.executeThenClose { _, _ in }
        try await server.stop()
    }

    func testClientWithoutCertificateIsRefused() async throws {
        let server = try await self.startServer()
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .file(self.pki.coordinator(in: self.pki.fleet).trustRoots)
        let anonymous = try NIOSSLContext(configuration: configuration)

        // TLS 1.3: the client may finish its side of the handshake before the server refuses it.
        if let connection = try? await self.connect(server, tls: anonymous) {
            let received = await self.drain(connection, after: Envelopes.heartbeat(1))
            XCTAssertTrue(received.allSatisfy { $0.welcome.agentID.isEmpty }, "\(received)")
        }
        try await self.assertStillServes(server)
        let seen = await server.identities.seen
        XCTAssertEqual(seen, ["agent-2"])
    }

    func testClientFromAnotherCAIsRefused() async throws {
        let server = try await self.startServer()
        let stranger = try FleetTLS.clientContext(self.pki.agent("agent-1", in: self.pki.otherFleet))
        if let connection = try? await self.connect(server, tls: stranger) {
            let received = await self.drain(connection, after: Envelopes.heartbeat(1))
            XCTAssertTrue(received.allSatisfy { $0.welcome.agentID.isEmpty }, "\(received)")
        }
        try await self.assertStillServes(server)
        let seen = await server.identities.seen
        XCTAssertEqual(seen, ["agent-2"])
        XCTAssertTrue(self.serverLogs.contains("closing connection"), "\(self.serverLogs.all)")
    }

    func testClientRefusesAServerFromAnotherCA() async throws {
        let impostor = try await self.startServer(in: self.pki.otherFleet)
        do {
            let connection = try await self.connectAgent("agent-1", to: impostor)
            XCTFail("connected to a server of another CA as \(connection.identity)")
        } catch {
            XCTAssertTrue("\(error)".contains("handshakeFailed"), "\(error)")
        }
        try await impostor.stop()
        let seen = await impostor.identities.seen
        XCTAssertEqual(seen, [])
    }

    func testClientRefusesAServerWhoseNameDoesNotMatch() async throws {
        let server = try await self.startServer()
        let tls = try FleetTLS.clientContext(self.pki.agent("agent-1", in: self.pki.fleet))
        do {
            _ = try await self.connect(server, tls: tls, serverHostname: "coordinator.example")
            XCTFail("accepted a certificate issued for localhost as coordinator.example")
        } catch {
            XCTAssertTrue("\(error)".contains("Couldn't find coordinator.example"), "\(error)")
        }
        try await server.stop()
    }

    func testOversizedFrameClosesOnlyThatConnection() async throws {
        try await self.assertBadFrameClosesOnlyItsConnection(
            Envelopes.frame(announcing: 2_000), maxFrameBytes: 1_024,
            reason: "frame of 2000 bytes exceeds the limit of 1024 bytes")
    }

    func testGarbageFrameClosesOnlyThatConnection() async throws {
        try await self.assertBadFrameClosesOnlyItsConnection(
            Envelopes.frame(announcing: UInt32(Envelopes.garbage.count), body: Envelopes.garbage),
            maxFrameBytes: FleetFraming.defaultMaxFrameBytes,
            reason: "frame of 5 bytes is not a valid Envelope")
    }

    /// agent-1 stays connected while agent-2 sends `badFrame` raw under TLS; agent-2 is told why
    /// and dropped, the reason is logged with its address, and agent-1 keeps being served.
    private func assertBadFrameClosesOnlyItsConnection(
        _ badFrame: ByteBuffer, maxFrameBytes: Int, reason: String
    ) async throws {
        let server = try await self.startServer(maxFrameBytes: maxFrameBytes)
        let good = try await self.connectAgent("agent-1", to: server)
        try await good.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let before = try await self.identityEchoed(by: &iterator, outbound: outbound)
            XCTAssertEqual(before, "agent-1")

            let bad = try await self.connectAgent("agent-2", to: server)
            let badPort = try XCTUnwrap(bad.channel.channel.localAddress?.port)
            try await Self.writeRawUnderTLS(badFrame, on: bad.channel.channel)
            let received = await self.drain(bad)
            XCTAssertEqual(received.count, 1)
            XCTAssertTrue(received.first?.error.reason.hasPrefix(reason) == true, "\(received)")

            let after = try await self.identityEchoed(by: &iterator, outbound: outbound)
            XCTAssertEqual(after, "agent-1")
            XCTAssertTrue(
                self.serverLogs.all.contains { $0.contains(reason) && $0.contains(":\(badPort)") },
                "\(self.serverLogs.all)")
        }
        try await server.stop()
    }

    /// Writes bytes below the frame encoder but above TLS, as a broken peer would.
    private static func writeRawUnderTLS(_ bytes: ByteBuffer, on channel: any Channel) async throws {
        try await channel.eventLoop.flatSubmit {
            do {
                let decoder = try channel.pipeline.syncOperations.context(
                    handlerType: ByteToMessageHandler<EnvelopeDecoder>.self)
                return decoder.writeAndFlush(NIOAny(bytes))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    /// A good agent (agent-2) is still accepted and answered, then the server stops cleanly.
    private func assertStillServes(_ server: EchoFleetServer) async throws {
        let connection = try await self.connectAgent("agent-2", to: server)
        try await connection.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let echoed = try await self.identityEchoed(by: &iterator, outbound: outbound)
            XCTAssertEqual(echoed, "agent-2")
        }
        try await server.stop()
    }
}
