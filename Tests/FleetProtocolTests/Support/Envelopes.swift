import FleetProtocol
import Foundation
import NIOCore

/// Small envelopes and raw frames for the framing tests.
enum Envelopes {
    static func heartbeat(_ sentAtMs: UInt64) -> Quantfleet_V1_Envelope {
        var heartbeat = Quantfleet_V1_Heartbeat()
        heartbeat.sentAtMs = sentAtMs
        return Quantfleet_V1_Envelope(.heartbeat(heartbeat))
    }

    static func chunk(dataBytes: Int) -> Quantfleet_V1_Envelope {
        var chunk = Quantfleet_V1_ModelChunk()
        chunk.sha256 = String(repeating: "ab", count: 32)
        chunk.offset = 262_144
        chunk.totalSize = 1_000_000
        chunk.data = Data(repeating: 7, count: dataBytes)
        return Quantfleet_V1_Envelope(.modelChunk(chunk))
    }

    /// A frame whose prefix announces `length` bytes, followed by `body`.
    static func frame(announcing length: UInt32, body: [UInt8] = []) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(length, endianness: .big)
        buffer.writeBytes(body)
        return buffer
    }

    /// Bytes that are not a protobuf message: field 15 with the reserved wire type 7.
    static let garbage: [UInt8] = [0x7F, 0xFF, 0xFF, 0xFF, 0xFF]
}
