import NIOConcurrencyHelpers

/// Which TLS handshakes the listener starts: at most `maximumInFlight` at once, and new ones at a
/// sustained `perSecond` with bursts of `burst` (a token bucket). A reconnect storm of thousands of
/// agents is then absorbed at a pace the CPU holds (each handshake is public-key cryptography), not
/// amplified by handshakes that time out half done and are retried. The listener accepts no
/// connection it could not admit (`waitUntilAdmissible`), so waiting clients stay in the kernel's
/// accept queue at no cost; the few NIO accepts ahead of a full limit wait, reading nothing, until
/// admitted (`HandshakeAdmissionHandler`). No connection is refused for the limits.
public final class HandshakeAdmission: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maximumInFlight: Int
        public var perSecond: Double
        public var burst: Int

        public init(maximumInFlight: Int, perSecond: Double, burst: Int) {
            precondition(maximumInFlight >= 1 && perSecond > 0 && burst >= 1, "admission limits must be positive")
            self.maximumInFlight = maximumInFlight
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    private struct State {
        var inFlight = 0
        var tokens: Double
        var refilledAt: ContinuousClock.Instant

        /// Adds the tokens earned since the last refill, up to the burst.
        mutating func refill(at now: ContinuousClock.Instant, _ limits: Limits) {
            let elapsed = refilledAt.duration(to: now)
            let seconds = elapsed / .seconds(1)
            tokens = min(Double(limits.burst), tokens + max(0, seconds) * limits.perSecond)
            refilledAt = max(refilledAt, now)
        }
    }

    public let limits: Limits
    private let state: NIOLockedValueBox<State>

    public init(_ limits: Limits, now: ContinuousClock.Instant = .now) {
        self.limits = limits
        state = NIOLockedValueBox(State(tokens: Double(limits.burst), refilledAt: now))
    }

    /// Admits one handshake (call `finished` when it ends, whichever way), or says why it must wait.
    public func admit(at now: ContinuousClock.Instant = .now) -> HandshakeDeferral? {
        state.withLockedValue { state in
            state.refill(at: now, limits)
            guard state.inFlight < limits.maximumInFlight else { return .tooManyInFlight(limit: limits.maximumInFlight) }
            guard state.tokens >= 1 else { return .rateLimited(perSecond: limits.perSecond) }
            state.tokens -= 1
            state.inFlight += 1
            return nil
        }
    }

    /// How long from `now` until `admit` would succeed, if no handshake finishes meanwhile; nil when
    /// it would succeed now. While every place is taken the wait is unknown (it ends when a handshake
    /// does), and `pollInterval` is returned.
    public func delayBeforeAdmission(at now: ContinuousClock.Instant = .now, pollInterval: Duration = .milliseconds(5)) -> Duration? {
        state.withLockedValue { state in
            guard state.inFlight < limits.maximumInFlight else { return pollInterval }
            state.refill(at: now, limits)
            guard state.tokens < 1 else { return nil }
            return .seconds((1 - state.tokens) / limits.perSecond)
        }
    }

    /// Returns once `admit` would succeed (the server's accept loop waits here, so connections it
    /// cannot admit yet stay in the kernel's accept queue, costing no CPU, instead of being accepted
    /// and refused).
    public func waitUntilAdmissible() async throws {
        while let delay = delayBeforeAdmission() {
            try await Task.sleep(for: delay)
        }
    }

    /// An admitted handshake ended (completed, failed, timed out or closed).
    public func finished() {
        state.withLockedValue { state in
            precondition(state.inFlight > 0, "a handshake finished that was never admitted")
            state.inFlight -= 1
        }
    }

    public var inFlight: Int { state.withLockedValue(\.inFlight) }
}

/// Why a connection's handshake waits before it starts.
public enum HandshakeDeferral: Sendable, Equatable, CustomStringConvertible {
    case tooManyInFlight(limit: Int)
    case rateLimited(perSecond: Double)

    /// Which limit made it wait, e.g. as a metrics label.
    public enum Limit: String, Sendable, CaseIterable {
        case inFlight = "in-flight"
        case rate
    }

    public var limit: Limit {
        switch self {
        case .tooManyInFlight: .inFlight
        case .rateLimited: .rate
        }
    }

    public var description: String {
        switch self {
        case .tooManyInFlight(let limit): "\(limit) TLS handshakes already in flight (max-handshakes-in-flight)"
        case .rateLimited(let perSecond): "more than \(perSecond) TLS handshakes a second (handshakes-per-second)"
        }
    }
}
