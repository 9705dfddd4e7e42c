import Foundation

/// The node tests expected to fail, each with its reason: lines "test_name  reason", '#' starts a comment.
public struct ExpectedFailures: Sendable {
    public private(set) var reasons: [String: String]
    /// The comment block the file starts with, kept when the list is rewritten.
    let header: [String]

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

    /// Reasons starting with this are written by hand and kept; every other reason is the failure's
    /// own message, refreshed on each update so that it never goes stale.
    public static let writtenReasonPrefix = "by design:"

    /// The list the results call for: failing tests with their reasons, passing tests gone.
    public func updated(with results: [NodeTestResult]) -> ExpectedFailures {
        var updated = self
        updated.reasons = [:]
        for result in results {
            guard let failure = result.failure else { continue }
            let written = reasons[result.name].flatMap { $0.hasPrefix(Self.writtenReasonPrefix) ? $0 : nil }
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
