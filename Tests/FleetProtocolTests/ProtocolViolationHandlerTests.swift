import FleetProtocol
import NIOCore
import NIOEmbedded
import XCTest

final class ProtocolViolationHandlerTests: XCTestCase {
    func testBadFrameIsLoggedAnsweredWithProtocolErrorAndClosesTheChannel() throws {
        let logs = CapturedLogs()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(EnvelopeDecoder(maxFrameBytes: 64)),
            MessageToByteHandler(EnvelopeEncoder(maxFrameBytes: 64)),
            ProtocolViolationHandler(logger: logs.logger)
        )
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 4242)).wait()

        XCTAssertThrowsError(try channel.writeInbound(Envelopes.frame(announcing: 65)))

        XCTAssertFalse(channel.isActive)
        XCTAssertTrue(logs.contains("frame of 65 bytes exceeds the limit of 64 bytes"), "\(logs.all)")
        XCTAssertTrue(logs.contains("192.0.2.7"), "\(logs.all)")

        var sent = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
        let length = try XCTUnwrap(sent.readInteger(endianness: .big, as: UInt32.self))
        let reply = try Quantfleet_V1_Envelope(serializedBytes: sent.readBytes(length: Int(length))!)
        XCTAssertEqual(reply.error.reason, "frame of 65 bytes exceeds the limit of 64 bytes")
    }

    func testGoodEnvelopesPassThrough() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ProtocolViolationHandler(logger: CapturedLogs().logger))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 4242)).wait()
        try channel.writeInbound(Envelopes.heartbeat(9))
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), Envelopes.heartbeat(9))
        XCTAssertTrue(channel.isActive)
    }
}
