/// What one agent may send: windows awaiting their commit at once, and bytes per second. An agent
/// beyond either is slowed (its session stops reading its frames for a while, so TCP pushes back on
/// that agent alone), logged and counted; other agents' sessions never wait for it.
public struct AgentLimits: Sendable, Codable, Equatable {
    public var windowsInFlight: Int
    public var bytesPerSecond: Int

    public static let defaults = AgentLimits(windowsInFlight: 16, bytesPerSecond: 1_048_576)

    public init(windowsInFlight: Int, bytesPerSecond: Int) {
        self.windowsInFlight = windowsInFlight
        self.bytesPerSecond = bytesPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case windowsInFlight = "windows-in-flight", bytesPerSecond = "bytes-per-second"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        windowsInFlight = try container.decodeIfPresent(Int.self, forKey: .windowsInFlight) ?? Self.defaults.windowsInFlight
        bytesPerSecond = try container.decodeIfPresent(Int.self, forKey: .bytesPerSecond) ?? Self.defaults.bytesPerSecond
        for (key, value) in [(CodingKeys.windowsInFlight, windowsInFlight), (.bytesPerSecond, bytesPerSecond)] where value < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be at least 1, got \(value)")
        }
    }

    /// Which limit an agent reached, e.g. as a metrics label.
    public enum Limit: String, Sendable, CaseIterable {
        case windowsInFlight = "windows-in-flight"
        case bytesPerSecond = "bytes-per-second"
    }
}
