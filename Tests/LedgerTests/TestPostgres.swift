import Foundation
import Ledger
import Operations

/// The test process's PostgreSQL server: started (initdb, pg_ctl, in a temporary directory) by the
/// first test that needs it, stopped and removed when the process exits. Each fixture gets a
/// database of its own on it.
enum TestPostgres {
    private static let server: Result<PostgresServer, any Error> = Result {
        let server = try PostgresServer.start()
        atexit { try? TestPostgres.stopServer() }
        return server
    }

    private static func stopServer() throws {
        try server.get().stop()
    }

    /// Kills the server as a crash would and starts it again on the same port and data.
    static func crashAndRestart() throws {
        let server = try server.get()
        try server.kill()
        try server.restart()
    }

    /// A new, empty database, as a ledger location.
    static func freshDatabase() throws -> LedgerLocation {
        let server = try server.get()
        let name = "ledger_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try server.psql("CREATE DATABASE \(name)")
        return .postgres(try PostgresLocation(parsing: server.url(database: name) + "?sslmode=disable", environment: [:]))
    }
}
