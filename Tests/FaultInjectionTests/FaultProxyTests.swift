import FaultInjection
import Foundation
import XCTest

/// Each fault against real sockets: a blocking client, the proxy, an echo server behind it.
final class FaultProxyTests: XCTestCase {
    /// An echo server and a proxy in front of it, both stopped when the test ends.
    private func startProxy() async throws -> (EchoServer, FaultProxy) {
        let echo = try await EchoServer.start()
        let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: echo.port)
        addTeardownBlock {
            await proxy.stop()
            await echo.stop()
        }
        return (echo, proxy)
    }

    private func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    func testACleanLinkRelaysEveryByteBothWays() async throws {
        let (_, proxy) = try await startProxy()
        let client = try BlockingClient(port: proxy.port)
        let sent = randomBytes(300_000)
        try client.send(sent)
        let received = client.receive(sent.count, within: .seconds(10))
        XCTAssertEqual(received.bytes, sent)
        XCTAssertEqual(proxy.counters.bytesForwarded, 2 * sent.count)
        XCTAssertEqual(proxy.counters.bytesDropped, 0)
        XCTAssertEqual(proxy.counters.connectionsAccepted, 1)
    }

    func testLatencyDelaysEachDirection() async throws {
        let (_, proxy) = try await startProxy()
        try proxy.update { $0.latency = .milliseconds(150) }
        let client = try BlockingClient(port: proxy.port)
        let started = ContinuousClock.now
        try client.send(Array("ping".utf8))
        XCTAssertEqual(client.receive(4, within: .seconds(5)).bytes, Array("ping".utf8))
        let roundTrip = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(roundTrip, .milliseconds(300), "150 ms there and 150 ms back")
        XCTAssertLessThan(roundTrip, .seconds(2))
    }

    func testJitterNeverReordersBytes() async throws {
        let (_, proxy) = try await startProxy()
        try proxy.update {
            $0.latency = .milliseconds(5)
            $0.jitter = .milliseconds(80)
        }
        let client = try BlockingClient(port: proxy.port)
        var sent: [UInt8] = []
        for index in 0..<60 {
            let message = Array(String(format: "%03d;", index).utf8)
            try client.send(message)
            sent += message
            usleep(2_000)
        }
        XCTAssertEqual(client.receive(sent.count, within: .seconds(10)).bytes, sent)
    }

    func testABandwidthCapPacesTheStream() async throws {
        let (_, proxy) = try await startProxy()
        try proxy.update { $0.bytesPerSecond = 40_000 }
        let client = try BlockingClient(port: proxy.port)
        let sent = randomBytes(40_000)
        let started = ContinuousClock.now
        try client.send(sent)
        let received = client.receive(sent.count, within: .seconds(10))
        let elapsed = ContinuousClock.now - started
        XCTAssertEqual(received.bytes, sent)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(900), "40 kB at 40 kB/s take a second")
        XCTAssertLessThan(elapsed, .seconds(4))
    }

    func testAStallHoldsBytesThenDeliversThemAll() async throws {
        let (_, proxy) = try await startProxy()
        let client = try BlockingClient(port: proxy.port)
        proxy.stall(for: .milliseconds(700))
        try client.send(Array("held".utf8))
        let early = client.receive(4, within: .milliseconds(450))
        XCTAssertEqual(early.bytes, [], "nothing crosses during the stall")
        XCTAssertFalse(early.closed)
        XCTAssertEqual(client.receive(4, within: .seconds(3)).bytes, Array("held".utf8), "a stall loses nothing")
    }

    func testACutClosesBothSidesMidStream() async throws {
        let (echo, proxy) = try await startProxy()
        let client = try BlockingClient(port: proxy.port)
        try client.send(Array("before".utf8))
        XCTAssertEqual(client.receive(6, within: .seconds(2)).bytes, Array("before".utf8))
        try proxy.cut(afterBytes: 10)
        try? client.send(randomBytes(1000))
        let after = client.receive(1000, within: .seconds(3))
        XCTAssertTrue(after.closed, "the client sees the connection end")
        XCTAssertLessThanOrEqual(after.bytes.count, 10, "at most the 10 bytes let through")
        XCTAssertLessThanOrEqual(proxy.counters.bytesForwarded, 12 + 10)
        try await eventually("the echo server sees the end too") { echo.closed == 1 }
    }

    func testAPartitionSwallowsBytesKillsOpenConnectionsAndHeals() async throws {
        let (echo, proxy) = try await startProxy()
        let before = try BlockingClient(port: proxy.port)
        try before.send([1, 2, 3])
        XCTAssertEqual(before.receive(3, within: .seconds(2)).bytes, [1, 2, 3])

        proxy.partition()
        try before.send([4, 5, 6])
        let silent = before.receive(3, within: .milliseconds(500))
        XCTAssertEqual(silent.bytes, [])
        XCTAssertFalse(silent.closed, "a black hole sends no FIN and no RST")
        let during = try BlockingClient(port: proxy.port)
        try during.send([7])
        XCTAssertEqual(during.receive(1, within: .milliseconds(300)).bytes, [])
        XCTAssertEqual(echo.accepted, 1, "nothing is connected behind a connection made during the partition")

        proxy.heal()
        let after = try BlockingClient(port: proxy.port)
        try after.send([8, 9])
        XCTAssertEqual(after.receive(2, within: .seconds(2)).bytes, [8, 9], "new connections work again")
        try before.send([10])
        XCTAssertEqual(before.receive(1, within: .milliseconds(300)).bytes, [], "connections the partition killed stay dead")
        XCTAssertEqual(proxy.counters.bytesDropped, 5)
    }

    func testHalfOpenClosesOnlyTheTargetSide() async throws {
        let (echo, proxy) = try await startProxy()
        let client = try BlockingClient(port: proxy.port)
        try client.send([1])
        XCTAssertEqual(client.receive(1, within: .seconds(2)).bytes, [1])
        XCTAssertEqual(proxy.connectionIDs.count, 1)
        try proxy.halfOpen(connection: proxy.connectionIDs[0])
        try await eventually("the echo server sees its side closed") { echo.closed == 1 }
        try client.send([2, 3])
        let silent = client.receive(2, within: .milliseconds(500))
        XCTAssertEqual(silent.bytes, [])
        XCTAssertFalse(silent.closed, "the client is not told")
    }

    func testAbandoningTheTargetSideClosesOnlyTheClientSide() async throws {
        let (echo, proxy) = try await startProxy()
        let first = try BlockingClient(port: proxy.port)
        try first.send([1])
        XCTAssertEqual(first.receive(1, within: .seconds(2)).bytes, [1])
        try proxy.abandonTargetSide(connection: proxy.connectionIDs[0])
        XCTAssertTrue(first.receive(1, within: .seconds(2)).closed, "the client sees its side closed")
        let second = try BlockingClient(port: proxy.port)
        try second.send([2])
        XCTAssertEqual(second.receive(1, within: .seconds(2)).bytes, [2], "the client's next connection works")
        XCTAssertEqual(echo.accepted, 2)
        XCTAssertEqual(echo.closed, 0, "the target still holds the first connection beside the second")
    }

    func testSettingsNoLinkCanHaveAreRefusedAndChangeNothing() async throws {
        let (_, proxy) = try await startProxy()
        try proxy.update { $0.latency = .milliseconds(20) }
        XCTAssertThrowsError(try proxy.update { $0.latency = .milliseconds(-1) }) { error in
            XCTAssertEqual("\(error)", "invalid link faults: latency -0.001 seconds is negative")
        }
        XCTAssertThrowsError(try proxy.update { $0.bytesPerSecond = 0 }) { error in
            XCTAssertEqual("\(error)", "invalid link faults: bytes per second must be positive, got 0")
        }
        XCTAssertEqual(proxy.faults, LinkFaults(latency: .milliseconds(20)))
        XCTAssertThrowsError(try proxy.cut(connection: 42)) { error in
            XCTAssertEqual("\(error)", "no open connection 42 on this proxy")
        }
    }

    func testAProxyOnAPortInUseSaysWhich() async throws {
        let (echo, _) = try await startProxy()
        do {
            _ = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: echo.port, listenPort: echo.port)
            XCTFail("a second listener on the same port")
        } catch let error as FaultProxyError {
            XCTAssertTrue("\(error)".hasPrefix("the fault proxy cannot listen on 127.0.0.1:\(echo.port): "), "\(error)")
        }
    }

    private func eventually(_ what: String, timeout: Duration = .seconds(3), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("timed out: \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
