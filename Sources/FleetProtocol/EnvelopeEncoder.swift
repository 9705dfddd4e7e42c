import NIOCore
import SwiftProtobuf

/// Writes each `Quantfleet_V1_Envelope` as one length-prefixed frame.
///
/// An envelope over the limit (or without a payload) fails its write with a `FrameError` instead of
/// sending a frame the peer would refuse.
public final class EnvelopeEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Quantfleet_V1_Envelope

    private let maxFrameBytes: Int

    /// - Precondition: `maxFrameBytes` is in 1...UInt32.max, the range a length prefix can express.
    public init(maxFrameBytes: Int = FleetFraming.defaultMaxFrameBytes) {
        FleetFraming.checkFrameLimit(maxFrameBytes)
        self.maxFrameBytes = maxFrameBytes
    }

    public func encode(data envelope: Quantfleet_V1_Envelope, out: inout ByteBuffer) throws {
        let body: [UInt8] = try envelope.serializedBytes()
        guard body.count <= self.maxFrameBytes else {
            throw FrameError.frameTooLarge(length: body.count, limit: self.maxFrameBytes)
        }
        guard !body.isEmpty else {
            throw FrameError.emptyFrame
        }
        out.reserveCapacity(FleetFraming.lengthPrefixBytes + body.count)
        out.writeInteger(UInt32(body.count), endianness: .big)
        out.writeBytes(body)
    }
}
