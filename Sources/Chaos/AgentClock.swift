import Foundation

/// An agent's wall clock, stepped from outside: the agent reads the seconds it is moved by from a
/// file of the campaign's (`QUANTFLEET_WALL_CLOCK_OFFSET_FILE`, DaemonSupport's `WallClock`). Only
/// calendar time moves (certificate validity, signed-metadata expiry, window times), as when NTP
/// steps a machine's clock; timers and timeouts run on the monotonic clock.
struct AgentClock: Sendable {
    let offsetFile: URL

    /// A clock at the right time, its file at `offsetFile`.
    init(offsetFile: URL) throws {
        self.offsetFile = offsetFile
        try FileManager.default.createDirectory(at: offsetFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try reset()
    }

    /// The variable the agent's environment needs.
    var variables: [String: String] { ["QUANTFLEET_WALL_CLOCK_OFFSET_FILE": offsetFile.path] }

    /// From now on (within a second) the agent's clock reads `seconds` ahead of the real one, behind when negative.
    func jump(bySeconds seconds: Int) throws {
        try Data((seconds >= 0 ? "+\(seconds)" : "\(seconds)").utf8).write(to: offsetFile, options: .atomic)
    }

    func reset() throws {
        try jump(bySeconds: 0)
    }
}
