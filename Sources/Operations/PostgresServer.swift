import Foundation

/// A PostgreSQL server of its own, for the tests and the demo: Debian's postgresql package, set up
/// by initdb in a temporary directory and run by pg_ctl on a free loopback port. No container and no
/// mock: the server a fleet runs on. PostgreSQL refuses to run as root, so as root the server runs
/// as the package's `postgres` user (through `runuser`), which then owns the directory.
///
/// Connections from the host need the superuser's password (scram-sha-256), so a wrong one is
/// refused as it would be on a real server.
public final class PostgresServer: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static let superuser = "quantfleet"
    public let password: String
    public let port: Int
    /// Holds the data directory, the server's log and its Unix socket.
    public let directory: URL
    private let binaries: URL
    /// The user the server runs as when this process is root; nil otherwise.
    private let serverUser: String?

    private var data: URL { directory.appendingPathComponent("data") }
    public var logFile: URL { directory.appendingPathComponent("server.log") }

    /// A connection string for `database` as the superuser.
    public func url(database: String = "postgres") -> String {
        "postgres://\(Self.superuser):\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a cluster in a new directory under `parent` (the temporary directory by default) and
    /// starts it.
    public static func start(under parent: URL = FileManager.default.temporaryDirectory) throws -> PostgresServer {
        let server = try PostgresServer(parent: parent)
        try server.initialize()
        try server.startServer()
        return server
    }

    private init(parent: URL) throws {
        binaries = try Self.locateBinaries()
        serverUser = geteuid() == 0 ? "postgres" : nil
        port = try FreePort.allocate()
        password = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        directory = parent.appendingPathComponent("quantfleet-postgres-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The newest `/usr/lib/postgresql/N/bin` (Debian's layout), or `QUANTFLEET_POSTGRES_BIN`.
    static func locateBinaries() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["QUANTFLEET_POSTGRES_BIN"] {
            return URL(fileURLWithPath: configured)
        }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).sorted().last(where: {
            FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb")
        }) else {
            throw Failure(description: "no PostgreSQL server under \(root)/*/bin: install Debian's postgresql package "
                + "(Tools/install-dependencies.sh does), or name its bin directory in QUANTFLEET_POSTGRES_BIN")
        }
        return URL(fileURLWithPath: "\(root)/\(newest)/bin")
    }

    private func initialize() throws {
        let passwordFile = directory.appendingPathComponent("password")
        try Data(password.utf8).write(to: passwordFile)
        if let serverUser {
            try ToolRun.output(of: "/bin/chown", ["-R", "\(serverUser):\(serverUser)", directory.path])
        }
        try runServerTool("initdb", [
            "-D", data.path, "-U", Self.superuser, "--pwfile=\(passwordFile.path)", "-E", "UTF8",
            "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
            // initdb's own fsyncs only: a test cluster is thrown away; the server itself syncs as usual.
            "--no-sync",
        ])
        try FileManager.default.removeItem(at: passwordFile)
    }

    private func startServer() throws {
        let options = "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory.path)"
        do {
            try runServerTool("pg_ctl", ["-D", data.path, "-l", logFile.path, "-o", options, "-w", "-t", "60", "start"])
        } catch {
            throw Failure(description: "\(error)\nserver log (\(logFile.path)):\n\(Self.tail(of: logFile))")
        }
    }

    /// Starts the server again after `kill()` or `stop(removing: false)`, on the same port.
    public func restart() throws {
        // A killed postmaster's backends may still hold its shared memory for a moment.
        var lastError: (any Error)?
        for _ in 0..<50 {
            do { return try startServer() } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        throw lastError!
    }

    /// SIGKILL to the postmaster, as a crash would.
    public func kill() throws {
        guard let pidLine = try String(contentsOf: data.appendingPathComponent("postmaster.pid"), encoding: .utf8)
            .split(separator: "\n").first, let pid = Int32(pidLine)
        else { throw Failure(description: "PostgreSQL at \(data.path) has no readable postmaster.pid") }
        Foundation.kill(pid, SIGKILL)
    }

    /// Stops the server (fast shutdown: sessions are ended, work committed so far kept) and, unless
    /// told otherwise, removes its directory.
    public func stop(removing: Bool = true) throws {
        if FileManager.default.fileExists(atPath: data.appendingPathComponent("postmaster.pid").path) {
            try runServerTool("pg_ctl", ["-D", data.path, "-m", "fast", "-w", "stop"])
        }
        if removing { try FileManager.default.removeItem(at: directory) }
    }

    /// Runs `sql` through psql as the superuser; returns its unaligned, tuples-only output, a line
    /// per row, without the last line's newline.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try ToolRun.output(of: binaries.appendingPathComponent("psql").path, [
            "-d", url(database: database), "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", sql,
        ]).trimmingCharacters(in: .newlines)
    }

    private func runServerTool(_ tool: String, _ arguments: [String]) throws {
        let path = binaries.appendingPathComponent(tool).path
        if let serverUser {
            try ToolRun.output(of: "/usr/sbin/runuser", ["-u", serverUser, "--", path] + arguments)
        } else {
            try ToolRun.output(of: path, arguments)
        }
    }

    private static func tail(of file: URL) -> String {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? "(no log)"
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}
