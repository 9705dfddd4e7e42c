import Foundation

/// The node tests expected to fail, each with its reason: lines "test_name  reason", '#' starts a comment.
public struct ExpectedFailures: Sendable {
    public private(set) var reasons: [String: String]
    /// The comment block the file starts with, kept when the list is rewritten.
    let header: [String]

    /// None expected: every test of the suite must pass.
    public init() {
        reasons = [:]
        header = []
    }

    public init(contentsOf file: URL) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        var reasons: [String: String] = [:]
        var header: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#"), reasons.isEmpty { header.append(String(line)) }
            let content = line.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            let parts = content.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw NodeTestError("\(file.lastPathComponent):\(number + 1): expected 'test_name reason'")
            }
            guard reasons.updateValue(parts[1].trimmingCharacters(in: .whitespaces), forKey: String(parts[0])) == nil else {
                throw NodeTestError("\(file.lastPathComponent):\(number + 1): \(parts[0]) is listed twice")
            }
        }
        self.reasons = reasons
        self.header = header
    }

    /// Reasons starting with these are written by hand and kept; every other reason is the failure's
    /// own message, refreshed on each update so that it never goes stale. A "random:" test compares
    /// random draws with stored ones: it may match by chance, so it counts as not passed either way.
    public static let writtenReasonPrefixes = ["by design:", randomReasonPrefix]
    public static let randomReasonPrefix = "random:"

    /// Listed as random draws: never counted as passed, never as an unexpected pass.
    public func isRandom(_ name: String) -> Bool { reasons[name]?.hasPrefix(Self.randomReasonPrefix) ?? false }

    /// The list the results call for: failing tests with their reasons, passing tests gone.
    public func updated(with results: [NodeTestResult]) -> ExpectedFailures {
        var updated = self
        updated.reasons = [:]
        for result in results {
            guard let failure = result.failure ?? (isRandom(result.name) ? reasons[result.name] : nil) else { continue }
            let written = reasons[result.name].flatMap { reason in Self.writtenReasonPrefixes.contains { reason.hasPrefix($0) } ? reason : nil }
            updated.reasons[result.name] = written ?? failure
        }
        return updated
    }

    public var text: String {
        let width = (reasons.keys.map(\.count).max() ?? 0) + 2
        let lines = reasons.keys.sorted().map { name in
            name.padding(toLength: max(width, 62), withPad: " ", startingAt: 0) + reasons[name]!.replacingOccurrences(of: "\n", with: " ")
        }
        return (header + lines).joined(separator: "\n") + "\n"
    }
}
