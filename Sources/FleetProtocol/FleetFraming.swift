/// Wire constants shared by both ends of a QuantFleet connection (see Protocols/quantfleet/v1/PROTOCOL.md).
///
/// A frame is a 4-byte big-endian length followed by exactly that many bytes of one serialized
/// `Quantfleet_V1_Envelope`. The limit applies to the envelope bytes, not to the length prefix.
public enum FleetFraming {
    /// Large enough for a 256 KiB model chunk with generous headroom, small enough that a hostile
    /// length prefix cannot make a peer reserve much memory.
    public static let defaultMaxFrameBytes: Int = 4 * 1024 * 1024

    /// The protocol version this build speaks (`Hello.protocol_versions`, `Welcome.protocol_version`).
    public static let protocolVersion: UInt32 = 1

    /// Bytes of the length prefix in front of every envelope.
    static let lengthPrefixBytes = 4
}

extension FleetFraming {
    static func checkFrameLimit(_ maxFrameBytes: Int) {
        precondition(
            (1...Int(UInt32.max)).contains(maxFrameBytes),
            "maxFrameBytes \(maxFrameBytes) is outside 1...\(UInt32.max), the range of a 4-byte length prefix"
        )
    }
}
