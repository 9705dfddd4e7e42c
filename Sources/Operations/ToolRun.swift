import Foundation

/// Runs a system tool to its end (make-pki.sh, mount, pg_ctl, ...): its output, or an error that
/// names the command, its exit status and what it printed.
///
/// Spawned with posix_spawn rather than Foundation's `Process`: a tool that starts a daemon
/// (`pg_ctl start`) leaves it holding every descriptor it inherited, and `Process` would wait for
/// its own watch socket (inherited too) to close, which a daemon never does. Here the child gets
/// only /dev/null and the output file, and the wait is for the tool alone.
public enum ToolRun {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    @discardableResult
    public static func output(of executable: String, _ arguments: [String]) throws -> String {
        let command = ([executable] + arguments).joined(separator: " ")
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("quantfleet-tool-\(UUID().uuidString).log")
        let output = open(outputFile.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw Failure(description: "cannot create \(outputFile.path) for the output of \(command)") }
        defer {
            close(output)
            try? FileManager.default.removeItem(at: outputFile)
        }
        let status = try spawnAndWait(executable, arguments, output: output, command: command)
        let text = String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
        guard status == 0 else {
            throw Failure(description: "\(command) failed (exit \(status)):\n" + text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return text
    }

    /// The tool's exit status (128 + the signal's number if a signal ended it).
    private static func spawnAndWait(_ executable: String, _ arguments: [String], output: Int32, command: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        guard let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            throw Failure(description: "cannot run \(command): posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later needed)")
        }
        // glibc's, since 2.34; Swift's Glibc module does not import it.
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot run \(command): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(command): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (they are macros).
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
