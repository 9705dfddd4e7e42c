/// One agent's inbound bytes against its bytes-per-second limit: a token bucket holding one second
/// of bytes. A frame is always taken, and may leave the bucket in debt; the debt is how long the
/// session waits before reading on, so a frame larger than a second's allowance still gets through.
struct ByteRate {
    let bytesPerSecond: Double
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant

    init(bytesPerSecond: Int, now: ContinuousClock.Instant = .now) {
        precondition(bytesPerSecond >= 1, "a byte rate is at least 1 byte a second")
        self.bytesPerSecond = Double(bytesPerSecond)
        tokens = Double(bytesPerSecond)
        refilledAt = now
    }

    /// Takes `bytes`; returns how long to wait before reading more, or nil when within the limit.
    mutating func take(_ bytes: Int, now: ContinuousClock.Instant = .now) -> Duration? {
        let elapsed = refilledAt.duration(to: now)
        if elapsed > .zero {
            let seconds = elapsed / .seconds(1)
            tokens = min(bytesPerSecond, tokens + seconds * bytesPerSecond)
            refilledAt = now
        }
        tokens -= Double(bytes)
        guard tokens < 0 else { return nil }
        return .milliseconds(Int((-tokens / bytesPerSecond * 1000).rounded(.up)))
    }
}
