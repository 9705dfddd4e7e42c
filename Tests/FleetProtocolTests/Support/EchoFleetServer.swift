import FleetProtocol
import Logging
import NIOCertificateReloading
import NIOCore
import NIOSSL

/// A real `FleetServer` on 127.0.0.1 that answers every Heartbeat with a Welcome carrying the
/// identity it read from the client's certificate, and records every identity it was handed.
final class EchoFleetServer: Sendable {
    let server: FleetServer
    let port: Int
    let identities = IdentityRecorder()
    private let runTask: Task<Void, any Error>

    init(
        tls: TLSFiles, verification: PeerVerification? = nil, reloader: TimedCertificateReloader? = nil,
        maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes, admission: HandshakeAdmission? = nil,
        deferred: @escaping @Sendable (HandshakeDeferral) -> Void = { _ in }, logger: Logger
    ) async throws {
        self.server = try await FleetServer.bind(
            host: "127.0.0.1", port: 0, tls: try FleetTLS.serverContext(tls, reloader: reloader), verification: verification,
            maxFrameBytes: maxFrameBytes, admission: admission, deferred: deferred, logger: logger)
        self.port = try boundPort(self.server.localAddress)
        let identities = self.identities
        let server = self.server
        self.runTask = Task {
            try await server.run { connection in
                await identities.record(connection.identity)
                try await connection.channel.executeThenClose { inbound, outbound in
                    for try await envelope in inbound {
                        guard case .heartbeat = envelope.payload else { continue }
                        var welcome = Quantfleet_V1_Welcome()
                        welcome.agentID = connection.identity
                        try await outbound.write(Quantfleet_V1_Envelope(.welcome(welcome)))
                    }
                }
            }
        }
    }

    func stop() async throws {
        try await self.server.close()
        try await self.runTask.value
    }
}

actor IdentityRecorder {
    private(set) var seen: [String] = []
    func record(_ identity: String) { self.seen.append(identity) }
}

private struct NoBoundPort: Error {}

private func boundPort(_ address: SocketAddress?) throws -> Int {
    guard let port = address?.port else { throw NoBoundPort() }
    return port
}

extension EchoFleetServer {
    /// Connects with `tls`, sends a Heartbeat and returns the identity echoed in the Welcome, or nil
    /// when either side refused the other (with TLS 1.3 the server's refusal of a client arrives
    /// after the client considers the handshake done, so it ends the first read instead).
    func echoedIdentity(
        tls: NIOSSLContext, verification: PeerVerification? = nil, serverHostname: String = "localhost", logger: Logger
    ) async -> String? {
        guard let connection = try? await FleetClient.connect(
            host: "127.0.0.1", port: self.port, tls: tls, verification: verification, serverHostname: serverHostname,
            logger: logger)
        else { return nil }
        return try? await connection.channel.executeThenClose { inbound, outbound in
            try await outbound.write(Envelopes.heartbeat(1))
            var iterator = inbound.makeAsyncIterator()
            return try await iterator.next()?.welcome.agentID
        }
    }
}
