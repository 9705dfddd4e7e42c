import Foundation

/// Runs a system tool to its end (make-pki.sh, mount, ...): its output, or an error that names the
/// command, its exit status and what it printed.
public enum ToolRun {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    @discardableResult
    public static func output(of executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(([executable] + arguments).joined(separator: " ")) failed (exit \(process.terminationStatus)):\n"
                + text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return text
    }
}
