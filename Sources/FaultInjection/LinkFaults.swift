import NIOCore

/// What a fault proxy does to the bytes crossing its link, in both directions. Set at run time
/// through `FaultProxy`; a change applies to the bytes read from then on, so bytes already in flight
/// keep the delivery time they were given.
public struct LinkFaults: Sendable, Equatable {
    /// Added to every chunk's delivery.
    public var latency: Duration
    /// A further delay drawn uniformly in 0...jitter per chunk. Order is kept all the same: a chunk
    /// never overtakes an earlier one, as on a TCP stream.
    public var jitter: Duration
    /// Bytes per second each direction carries; nil: as fast as loopback. Chunks are cut into
    /// packet-sized segments while a cap holds, so the bytes arrive as a slow stream, not in bursts.
    public var bytesPerSecond: Int?
    /// Bytes read before this instant are held until it: a stall delays, it loses nothing.
    public var stalledUntil: NIODeadline?
    /// A black-hole partition: bytes are read and dropped, and every connection open while it lasts
    /// never delivers again (no FIN, no RST: each end must notice by itself). Connections opened
    /// after it ends work again.
    public var isPartitioned: Bool

    public init(
        latency: Duration = .zero, jitter: Duration = .zero, bytesPerSecond: Int? = nil, stalledUntil: NIODeadline? = nil,
        isPartitioned: Bool = false
    ) {
        self.latency = latency
        self.jitter = jitter
        self.bytesPerSecond = bytesPerSecond
        self.stalledUntil = stalledUntil
        self.isPartitioned = isPartitioned
    }

    /// A clean link.
    public static let none = LinkFaults()

    /// Throws on settings no link can have, naming the field.
    func validate() throws {
        if latency < .zero { throw FaultProxyError.invalidFaults("latency \(latency) is negative") }
        if jitter < .zero { throw FaultProxyError.invalidFaults("jitter \(jitter) is negative") }
        if let bytesPerSecond, bytesPerSecond <= 0 {
            throw FaultProxyError.invalidFaults("bytes per second must be positive, got \(bytesPerSecond)")
        }
    }
}

public enum FaultProxyError: Error, CustomStringConvertible, Equatable {
    case invalidFaults(String)
    case cannotListen(port: Int, reason: String)
    case unknownConnection(Int)

    public var description: String {
        switch self {
        case .invalidFaults(let what): "invalid link faults: \(what)"
        case .cannotListen(let port, let reason): "the fault proxy cannot listen on 127.0.0.1:\(port): \(reason)"
        case .unknownConnection(let id): "no open connection \(id) on this proxy"
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
