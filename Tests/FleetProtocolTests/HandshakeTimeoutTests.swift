import FleetProtocol
import NIOCore
import NIOPosix
import XCTest

/// A server that accepts TCP and never answers the TLS ClientHello: the client's handshake times
/// out, and the connection is closed cleanly (its async channel finished), however many time out
/// at once, as in a reconnect storm whose connections wait in a full accept queue.
final class HandshakeTimeoutTests: PKITestCase {
    func testHandshakesThatTimeOutFailCleanly() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(silent.localAddress?.port)
        let tls = try FleetTLS.clientContext(self.pki.agent("agent-1", in: self.pki.fleet))
        let attempts = 40
        let logger = self.clientLogs.logger
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<attempts {
                group.addTask {
                    do {
                        let connection = try await FleetClient.connect(
                            host: "127.0.0.1", port: port, tls: tls, serverHostname: "localhost",
                            handshakeTimeout: .milliseconds(200), logger: logger)
                        try? await connection.channel.executeThenClose { _, _ in }
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        XCTAssertEqual(failures.count, attempts, "a handshake no server answered succeeded")
        // Their async channels are gone by now; an unfinished one would have trapped on deinit.
        try await Task.sleep(for: .milliseconds(200))
        try await silent.close()
    }
}
