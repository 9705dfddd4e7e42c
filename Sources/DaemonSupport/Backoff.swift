/// Exponential backoff with full jitter: after the k-th failure wait a uniform random time in
/// [0, min(maximum, initial * 2^k)], so a fleet that lost its coordinator does not reconnect in step.
public struct Backoff: Sendable {
    public struct Configuration: Sendable, Codable {
        public var initialMillis: Int
        public var maximumMillis: Int

        public init(initialMillis: Int, maximumMillis: Int) {
            self.initialMillis = initialMillis
            self.maximumMillis = maximumMillis
        }

        enum CodingKeys: String, CodingKey {
            case initialMillis = "initial-ms", maximumMillis = "maximum-ms"
        }
    }

    private let configuration: Configuration
    private var failures = 0

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    public mutating func nextDelay<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        let ceiling = min(configuration.maximumMillis, configuration.initialMillis << min(failures, 20))
        failures += 1
        return .milliseconds(Int.random(in: 0...max(ceiling, 1), using: &generator))
    }

    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    public mutating func reset() {
        failures = 0
    }
}
