/// Why a frame could not be read or written. Any of these closes the connection it happened on.
public enum FrameError: Error, CustomStringConvertible, Equatable {
    /// The length prefix (inbound) or the serialized envelope (outbound) exceeds the frame limit.
    case frameTooLarge(length: Int, limit: Int)
    /// The frame's bytes are not a valid serialized Envelope.
    case undecodable(length: Int, reason: String)
    /// A frame of length zero, or an envelope without a payload, which would encode to one: every
    /// frame must carry exactly one message.
    case emptyFrame

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the limit of \(limit) bytes"
        case .undecodable(let length, let reason):
            return "frame of \(length) bytes is not a valid Envelope: \(reason)"
        case .emptyFrame:
            return "empty frame: every frame must carry one Envelope with a payload"
        }
    }
}
