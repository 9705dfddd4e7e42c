/// A QuantFleet release's version as agents report it in Hello, MAJOR.MINOR.PATCH, compared part
/// by part as numbers (0.10.0 comes after 0.9.3). A rollout may target agents of at least one
/// version. Anything else an agent reports (a build of another tool, the load generator's simulated
/// agents) is no release version and meets no minimum.
public struct ReleaseVersion: Comparable, Sendable, Codable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let major = Int(parts[0]), let minor = Int(parts[1]), let patch = Int(parts[2])
        else { return nil }
        (self.major, self.minor, self.patch) = (major, minor, patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    /// Written as its text, as the ledger and the admin API keep it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let version = ReleaseVersion(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not a release version MAJOR.MINOR.PATCH")
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: ReleaseVersion, rhs: ReleaseVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
