import Synchronization

/// Which TLS handshakes the listener starts: at most `maximumInFlight` at once, and new ones at a
/// sustained `perSecond` with bursts of `burst` (a token bucket). A reconnect storm of thousands of
/// agents is then absorbed at a pace the CPU holds (each handshake is public-key cryptography), not
/// amplified by handshakes that time out half done and are retried; refused clients back off and
/// come again.
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
    }

    public let limits: Limits
    private let state: Mutex<State>

    public init(_ limits: Limits, now: ContinuousClock.Instant = .now) {
        self.limits = limits
        state = Mutex(State(tokens: Double(limits.burst), refilledAt: now))
    }

    /// Admits one handshake (call `finished` when it ends, whichever way), or says why not.
    public func admit(at now: ContinuousClock.Instant = .now) -> HandshakeRefusal? {
        state.withLock { state in
            let elapsed = state.refilledAt.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(Double(limits.burst), state.tokens + max(0, seconds) * limits.perSecond)
            state.refilledAt = max(state.refilledAt, now)
            guard state.inFlight < limits.maximumInFlight else { return .tooManyInFlight(limit: limits.maximumInFlight) }
            guard state.tokens >= 1 else { return .rateLimited(perSecond: limits.perSecond) }
            state.tokens -= 1
            state.inFlight += 1
            return nil
        }
    }

    /// An admitted handshake ended (completed, failed, timed out or closed).
    public func finished() {
        state.withLock { state in
            precondition(state.inFlight > 0, "a handshake finished that was never admitted")
            state.inFlight -= 1
        }
    }

    public var inFlight: Int { state.withLock(\.inFlight) }
}

/// Why a connection was closed before its handshake started.
public enum HandshakeRefusal: Sendable, Equatable, CustomStringConvertible {
    case tooManyInFlight(limit: Int)
    case rateLimited(perSecond: Double)

    /// Which limit refused, e.g. as a metrics label.
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
