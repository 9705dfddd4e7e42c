import NIOCore
import SwiftProtobuf

/// Turns length-prefixed frames into `Quantfleet_V1_Envelope`s.
///
/// The length is checked as soon as its 4 bytes arrive, so an oversized frame is refused before any
/// of its body is buffered.
public final class EnvelopeDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Quantfleet_V1_Envelope

    private let maxFrameBytes: Int

    /// - Precondition: `maxFrameBytes` is in 1...UInt32.max, the range a length prefix can express.
    public init(maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes) {
        FleetFraming.checkFrameLimit(maxFrameBytes)
        self.maxFrameBytes = maxFrameBytes
    }

    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let prefix = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        let length = Int(prefix)
        guard length <= self.maxFrameBytes else {
            throw FrameError.frameTooLarge(length: length, limit: self.maxFrameBytes)
        }
        guard length > 0 else {
            throw FrameError.emptyFrame
        }
        guard buffer.readableBytes >= FleetFraming.lengthPrefixBytes + length else {
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: FleetFraming.lengthPrefixBytes)
        let body = buffer.readBytes(length: length)!
        let envelope: Quantfleet_V1_Envelope
        do {
            envelope = try Quantfleet_V1_Envelope(serializedBytes: body)
        } catch {
            throw FrameError.undecodable(length: length, reason: String(describing: error))
        }
        context.fireChannelRead(Self.wrapInboundOut(envelope))
        return .continue
    }

    public func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // Complete frames that arrived with the EOF are still delivered; a truncated tail is
        // reported by ByteToMessageHandler as leftover data.
        try self.decode(context: context, buffer: &buffer)
    }
}
