import Foundation

/// A child process whose output goes to a log file, stopped with SIGTERM (then SIGKILL if it
/// does not exit in time). The demo and the system tests start daemons with it.
public final class ManagedProcess: @unchecked Sendable {
    // @unchecked: Foundation's Process is not Sendable; this type only reads it after `run()`
    // and every mutation happens inside Process itself.
    public let name: String
    public let logFile: URL
    private let process = Process()

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(name: String, executable: URL, arguments: [String], logFile: URL, environment: [String: String]? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw LaunchError(description: "\(name): no executable at \(executable.path) (run `swift build` first)")
        }
        self.name = name
        self.logFile = logFile
        try FileManager.default.createDirectory(at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // A restarted process appends to the same log, so a crash and its recovery read as one story.
        guard FileManager.default.fileExists(atPath: logFile.path)
            || FileManager.default.createFile(atPath: logFile.path, contents: nil)
        else {
            throw LaunchError(description: "\(name): cannot create the log file \(logFile.path)")
        }
        let log = try FileHandle(forWritingTo: logFile)
        try log.seekToEnd()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        if let environment { process.environment = environment }
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// SIGTERM, then SIGKILL after `grace`. Returns the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// SIGKILL now, as a crash would.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends `signal` (e.g. SIGSTOP, SIGCONT) if the process still runs; false if it does not.
    @discardableResult
    public func send(_ signal: Int32) -> Bool {
        guard process.isRunning else { return false }
        return Foundation.kill(process.processIdentifier, signal) == 0
    }

    /// The last lines of the log, for error messages.
    public func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
