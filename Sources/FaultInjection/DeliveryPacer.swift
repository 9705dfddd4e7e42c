import NIOCore

/// When each segment read on one side of a link is delivered on the other: after the latency and
/// a jitter draw, not before a stall ends, never before the segment ahead of it, and, under a
/// bandwidth cap, only once the link has had time to carry it.
struct DeliveryPacer {
    private(set) var lastDelivery = NIODeadline.uptimeNanoseconds(0)

    /// `jitterDraw` is uniform in 0...1 (drawn by the caller, so that tests can fix it).
    mutating func deliveryTime(of bytes: Int, readAt now: NIODeadline, faults: LinkFaults, jitterDraw: Double) -> NIODeadline {
        let jitter = TimeAmount(faults.jitter)
        var at = now + TimeAmount(faults.latency) + .nanoseconds(Int64(Double(jitter.nanoseconds) * jitterDraw))
        if let stalled = faults.stalledUntil, stalled > at { at = stalled }
        if at < lastDelivery { at = lastDelivery }
        if let rate = faults.bytesPerSecond {
            at = at + .nanoseconds(Int64(bytes) * 1_000_000_000 / Int64(rate))
        }
        lastDelivery = at
        return at
    }
}
