import Synchronization
import FleetProtocol
import Logging
import NIOCore
import NIOPosix
import XCTest

/// Handshake admission: the limits as arithmetic, then on a real TLS listener, where a connection
/// beyond them is closed before its handshake and an admitted one is released when it ends.
final class HandshakeAdmissionTests: XCTestCase {
    private let start = ContinuousClock.now

    func testAtMostTheLimitInFlight() {
        let admission = HandshakeAdmission(.init(maximumInFlight: 2, perSecond: 1_000, burst: 1_000), now: start)
        XCTAssertNil(admission.admit(at: start))
        XCTAssertNil(admission.admit(at: start))
        XCTAssertEqual(admission.admit(at: start), .tooManyInFlight(limit: 2))
        admission.finished()
        XCTAssertNil(admission.admit(at: start), "a finished handshake frees its place")
        XCTAssertEqual(admission.inFlight, 2)
    }

    func testRateIsATokenBucket() {
        let admission = HandshakeAdmission(.init(maximumInFlight: 100, perSecond: 10, burst: 3), now: start)
        for _ in 0..<3 { XCTAssertNil(admission.admit(at: start)) }
        XCTAssertEqual(admission.admit(at: start), .rateLimited(perSecond: 10), "the burst is spent")
        XCTAssertEqual(admission.admit(at: start + .milliseconds(50)), .rateLimited(perSecond: 10), "half a token")
        XCTAssertNil(admission.admit(at: start + .milliseconds(100)), "one token a tenth of a second")
        XCTAssertNil(admission.admit(at: start + .seconds(60)))
        XCTAssertNil(admission.admit(at: start + .seconds(60)))
        XCTAssertNil(admission.admit(at: start + .seconds(60)))
        XCTAssertEqual(admission.admit(at: start + .seconds(60)), .rateLimited(perSecond: 10), "idle time refills only the burst")
    }

    func testAConnectionBeyondTheLimitIsClosedBeforeItsHandshakeAndThePlaceIsFreedAfter() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let logs = CapturedLogs()
        let admission = HandshakeAdmission(.init(maximumInFlight: 1, perSecond: 1_000, burst: 1_000))
        let refusals = RefusalRecorder()
        let server = try await EchoFleetServer(
            tls: pki.coordinator(in: pki.fleet), admission: admission, refused: { refusal in refusals.record(refusal) },
            logger: logs.logger)
        let agentTLS = try FleetTLS.clientContext(pki.agent("agent-1", in: pki.fleet))

        // A client that connects and never starts its handshake holds the only place.
        let idle = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await waitUntil { admission.inFlight == 1 }
        do {
            let refused = try await FleetClient.connect(
                host: "127.0.0.1", port: server.port, tls: agentTLS, serverHostname: "localhost", logger: logs.logger)
            try? await refused.channel.channel.close()
            XCTFail("an agent was admitted beyond max-handshakes-in-flight")
        } catch {}
        XCTAssertEqual(refusals.all, [.tooManyInFlight(limit: 1)])
        XCTAssertTrue(logs.all.contains { $0.contains("connection refused before its TLS handshake") }, "\(logs.all)")

        try await idle.close()
        try await waitUntil { admission.inFlight == 0 }
        let admitted = try await FleetClient.connect(
            host: "127.0.0.1", port: server.port, tls: agentTLS, serverHostname: "localhost", logger: logs.logger)
        try await admitted.channel.executeThenClose { inbound, outbound in
            try await outbound.write(Envelopes.heartbeat(1))
            var frames = inbound.makeAsyncIterator()
            let welcome = try await frames.next()
            XCTAssertEqual(welcome?.welcome.agentID, "agent-1")
        }
        XCTAssertEqual(admission.inFlight, 0, "a completed handshake frees its place")
        try await server.stop()
    }

    private func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(condition(), "timed out")
    }
}

private final class RefusalRecorder: Sendable {
    private let refusals = Mutex<[HandshakeRefusal]>([])
    func record(_ refusal: HandshakeRefusal) { refusals.withLock { $0.append(refusal) } }
    var all: [HandshakeRefusal] { refusals.withLock { $0 } }
}
