import NIOConcurrencyHelpers
import FleetProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import XCTest

/// Handshake admission: the limits as arithmetic, then on a real TLS listener, which accepts no
/// connection it cannot admit, holds the few accepted ahead of a full limit before their handshake,
/// and releases an admitted one when it ends.
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

    func testAgentsBeyondTheLimitWaitAndGetInOnceAPlaceFrees() async throws {
        let listener = try await AdmittingListener(.init(maximumInFlight: 1, perSecond: 1_000, burst: 1_000))
        defer { listener.pki.remove() }
        let (admission, deferrals, server, agentTLS, logs) = (
            listener.admission, listener.deferrals, listener.server, listener.agentTLS, listener.logs)

        // A client that connects and never starts its handshake holds the only place.
        let idle = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await waitUntil { admission.inFlight == 1 }

        let agents = 16
        let welcomed = Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<agents {
                    group.addTask {
                        do {
                            let connection = try await FleetClient.connect(
                                host: "127.0.0.1", port: server.port, tls: agentTLS, serverHostname: "localhost", logger: logs.logger)
                            return try await connection.channel.executeThenClose { inbound, outbound in
                                try await outbound.write(Envelopes.heartbeat(1))
                                var frames = inbound.makeAsyncIterator()
                                return try await frames.next()?.welcome.agentID == "agent-1"
                            }
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        // NIO accepts a few connections before the listener's back pressure stops it (a connection
        // reaches the accept loop only once its channel is set up); they wait, reading nothing. The
        // others wait in the kernel's accept queue.
        try await waitUntil { !deferrals.all.isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(admission.inFlight, 1, "no handshake started beside the one in flight")
        XCTAssertLessThan(deferrals.all.count, agents / 2, "the listener accepted agents it could not admit: \(deferrals.all)")
        XCTAssertTrue(deferrals.all.allSatisfy { $0 == .tooManyInFlight(limit: 1) })

        try await idle.close()
        let admitted = await welcomed.value
        XCTAssertEqual(admitted, agents, "every agent got in once places freed, none was refused")
        try await waitUntil { admission.inFlight == 0 }
        try await server.stop()
    }

    func testAHandshakeBeyondTheRateWaitsForItsToken() async throws {
        let listener = try await AdmittingListener(.init(maximumInFlight: 100, perSecond: 5, burst: 1))
        defer { listener.pki.remove() }
        let (deferrals, server, agentTLS, logs) = (listener.deferrals, listener.server, listener.agentTLS, listener.logs)
        let started = ContinuousClock.now
        for _ in 0..<3 {
            let identity = await server.echoedIdentity(tls: agentTLS, logger: logs.logger)
            XCTAssertEqual(identity, "agent-1")
        }
        XCTAssertGreaterThanOrEqual(started.duration(to: .now), .milliseconds(350), "two handshakes waited a fifth of a second each")
        XCTAssertTrue(deferrals.all.allSatisfy { $0 == .rateLimited(perSecond: 5) })
        try await server.stop()
    }

    func testTheWaitBeforeAdmissionIsTheTimeToTheNextToken() throws {
        let admission = HandshakeAdmission(.init(maximumInFlight: 1, perSecond: 10, burst: 1), now: start)
        XCTAssertNil(admission.delayBeforeAdmission(at: start))
        XCTAssertNil(admission.admit(at: start))
        XCTAssertEqual(admission.delayBeforeAdmission(at: start, pollInterval: .milliseconds(7)), .milliseconds(7), "every place taken")
        admission.finished()
        let delay = try XCTUnwrap(admission.delayBeforeAdmission(at: start + .milliseconds(40)))
        XCTAssertEqual(delay / .milliseconds(1), 60, accuracy: 1e-6, "six tenths of a token to go")
        XCTAssertNil(admission.delayBeforeAdmission(at: start + .milliseconds(100)))
    }

    private func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(condition(), "timed out")
    }
}

/// A real TLS listener with handshake admission, a fleet PKI and agent-1's client context.
private struct AdmittingListener {
    let pki: TestPKI
    let logs: CapturedLogs
    let admission: HandshakeAdmission
    let deferrals: DeferralRecorder
    let server: EchoFleetServer
    let agentTLS: NIOSSLContext

    init(_ limits: HandshakeAdmission.Limits) async throws {
        let (pki, logs, admission, deferrals) = (try TestPKI.make(), CapturedLogs(), HandshakeAdmission(limits), DeferralRecorder())
        self.pki = pki
        self.logs = logs
        self.admission = admission
        self.deferrals = deferrals
        server = try await EchoFleetServer(
            tls: pki.coordinator(in: pki.fleet), admission: admission, deferred: { deferrals.record($0) }, logger: logs.logger)
        agentTLS = try FleetTLS.clientContext(pki.agent("agent-1", in: pki.fleet))
    }
}

private final class DeferralRecorder: Sendable {
    private let deferrals = NIOLockedValueBox<[HandshakeDeferral]>([])
    func record(_ deferral: HandshakeDeferral) { deferrals.withLockedValue { $0.append(deferral) } }
    var all: [HandshakeDeferral] { deferrals.withLockedValue { $0 } }
}
