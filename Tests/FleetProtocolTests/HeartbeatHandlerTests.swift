import FleetProtocol
import NIOCore
import NIOEmbedded
import NIOTLS
import XCTest

/// The coordinator's per-connection heartbeat: a Heartbeat every interval once TLS is up, and the
/// connection closed, with the reason logged, after three intervals without a frame.
final class HeartbeatHandlerTests: XCTestCase {
    func testHeartbeatsStartWithTheHandshakeAndReadsKeepTheLinkOpen() throws {
        let (channel, loop, logs) = try makeChannel()
        loop.advanceTime(by: .seconds(30))
        XCTAssertNil(try channel.readOutbound(as: Quantfleet_V1_Envelope.self), "nothing before the handshake")
        XCTAssertTrue(channel.isActive, "admission and the handshake timeout govern until then")

        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        for _ in 0..<5 {
            loop.advanceTime(by: .seconds(1))
            XCTAssertNotNil(try channel.readOutbound(as: Quantfleet_V1_Envelope.self)?.heartbeat, "one heartbeat per interval")
            loop.advanceTime(by: .seconds(1))
            _ = try channel.readOutbound(as: Quantfleet_V1_Envelope.self)
            try channel.writeInbound(Envelopes.heartbeat(1))
            XCTAssertNotNil(try channel.readInbound(as: Quantfleet_V1_Envelope.self), "frames pass through")
        }
        XCTAssertTrue(channel.isActive, "a peer that speaks every two intervals stays")
        XCTAssertEqual(logs.all, [])
    }

    func testASilentPeerIsClosedAfterThreeIntervalsWithTheReason() throws {
        let (channel, loop, logs) = try makeChannel()
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        loop.advanceTime(by: .seconds(2))
        XCTAssertTrue(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        XCTAssertFalse(channel.isActive, "no frame for three intervals")
        XCTAssertTrue(logs.contains("no frame for 3 s (three heartbeat intervals)"), "\(logs.all)")
        XCTAssertTrue(logs.contains("192.0.2.7"), "\(logs.all)")
    }

    private func makeChannel() throws -> (EmbeddedChannel, EmbeddedEventLoop, CapturedLogs) {
        let logs = CapturedLogs()
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(HeartbeatHandler(interval: .seconds(1), logger: logs.logger))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 4242)).wait()
        return (channel, loop, logs)
    }
}
