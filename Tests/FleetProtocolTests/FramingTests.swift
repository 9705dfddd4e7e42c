import FleetProtocol
import NIOCore
import NIOEmbedded
import XCTest

final class FramingTests: XCTestCase {
    private func makeCodecChannel(maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(EnvelopeDecoder(maxFrameBytes: maxFrameBytes)),
            MessageToByteHandler(EnvelopeEncoder(maxFrameBytes: maxFrameBytes))
        )
        return channel
    }

    private func encode(_ envelope: Quantfleet_V1_Envelope) throws -> ByteBuffer {
        let channel = try self.makeCodecChannel()
        try channel.writeOutbound(envelope)
        return try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
    }

    func testRoundTripKeepsTheEnvelopeAndPrefixesItsLength() throws {
        let envelope = Envelopes.chunk(dataBytes: 300_000)
        let frame = try self.encode(envelope)
        let body: [UInt8] = try envelope.serializedBytes()
        XCTAssertEqual(frame.getInteger(at: frame.readerIndex, endianness: .big, as: UInt32.self), UInt32(body.count))
        XCTAssertEqual(frame.readableBytes, 4 + body.count)

        let channel = try self.makeCodecChannel()
        try channel.writeInbound(frame)
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), envelope)
        XCTAssertNil(try channel.readInbound(as: Quantfleet_V1_Envelope.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testFrameSplitIntoSingleBytesIsDeliveredOnceComplete() throws {
        var frame = try self.encode(Envelopes.heartbeat(42))
        let channel = try self.makeCodecChannel()
        while let byte = frame.readSlice(length: 1) {
            XCTAssertNil(try channel.readInbound(as: Quantfleet_V1_Envelope.self))
            try channel.writeInbound(byte)
        }
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), Envelopes.heartbeat(42))
    }

    func testFramesMergedInOneReadAreAllDelivered() throws {
        var merged = try self.encode(Envelopes.heartbeat(1))
        var second = try self.encode(Envelopes.chunk(dataBytes: 1_000))
        var third = try self.encode(Envelopes.heartbeat(3))
        merged.writeBuffer(&second)
        merged.writeBuffer(&third)

        let channel = try self.makeCodecChannel()
        try channel.writeInbound(merged)
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), Envelopes.heartbeat(1))
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), Envelopes.chunk(dataBytes: 1_000))
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), Envelopes.heartbeat(3))
    }

    func testOversizedLengthIsRefusedAsSoonAsThePrefixArrives() throws {
        let channel = try self.makeCodecChannel(maxFrameBytes: 1_024)
        XCTAssertThrowsError(try channel.writeInbound(Envelopes.frame(announcing: 1_025))) { error in
            XCTAssertEqual(error as? FrameError, .frameTooLarge(length: 1_025, limit: 1_024))
        }
    }

    func testFrameAtTheLimitIsAccepted() throws {
        let envelope = Envelopes.chunk(dataBytes: 900)
        let frame = try self.encode(envelope)
        let channel = try self.makeCodecChannel(maxFrameBytes: frame.readableBytes - 4)
        try channel.writeInbound(frame)
        XCTAssertEqual(try channel.readInbound(as: Quantfleet_V1_Envelope.self), envelope)
    }

    func testGarbageBodyIsUndecodable() throws {
        let channel = try self.makeCodecChannel()
        let frame = Envelopes.frame(announcing: UInt32(Envelopes.garbage.count), body: Envelopes.garbage)
        XCTAssertThrowsError(try channel.writeInbound(frame)) { error in
            guard case .undecodable(let length, _)? = error as? FrameError else {
                return XCTFail("expected undecodable, got \(error)")
            }
            XCTAssertEqual(length, Envelopes.garbage.count)
        }
    }

    func testZeroLengthFrameIsRefused() throws {
        let channel = try self.makeCodecChannel()
        XCTAssertThrowsError(try channel.writeInbound(Envelopes.frame(announcing: 0))) { error in
            XCTAssertEqual(error as? FrameError, .emptyFrame)
        }
    }

    func testEncoderFailsTheWriteOfAnEnvelopeOverTheLimit() throws {
        let channel = try self.makeCodecChannel(maxFrameBytes: 1_024)
        let write = channel.writeAndFlush(Envelopes.chunk(dataBytes: 2_000))
        XCTAssertThrowsError(try write.wait()) { error in
            guard case .frameTooLarge(let length, 1_024)? = error as? FrameError else {
                return XCTFail("expected frameTooLarge, got \(error)")
            }
            XCTAssertGreaterThan(length, 2_000)
        }
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))
    }

    func testEncoderRefusesAnEnvelopeWithoutPayload() throws {
        let channel = try self.makeCodecChannel()
        XCTAssertThrowsError(try channel.writeAndFlush(Quantfleet_V1_Envelope()).wait()) { error in
            XCTAssertEqual(error as? FrameError, .emptyFrame)
        }
    }

    func testErrorDescriptionsNameTheProblem() {
        XCTAssertEqual(
            FrameError.frameTooLarge(length: 5_000_000, limit: 4_194_304).description,
            "frame of 5000000 bytes exceeds the limit of 4194304 bytes"
        )
        XCTAssertTrue(FrameError.undecodable(length: 5, reason: "truncated").description.contains("not a valid Envelope"))
    }
}
