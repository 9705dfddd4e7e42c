import Logging
import NIOSSL
import PostgresNIO

/// Connections to a PostgreSQL ledger. `check()` runs at start-up: it connects once and turns each
/// way of failing (no server there, a wrong password, no such database, no TLS where it is
/// demanded, too old a server) into an error that names it.
public struct PostgresConnector: Sendable {
    public let location: PostgresLocation
    let logger: Logger

    /// How long the server waits on a write transaction, or a connection, whose client went silent.
    static let abandonedTransactionMillis = 5_000

    /// The oldest server the ledger's SQL is written for (PostgreSQL 12).
    public static let oldestServerVersion = 120_000

    public init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// Connects once and returns the server's version number (150018 for 15.18).
    @discardableResult
    public func check() async throws -> Int {
        let version = try await withConnection { connection in
            var shown: String?
            for try await value in try await connection.query("SHOW server_version_num", logger: logger).decode(String.self) {
                shown = value
            }
            return shown.flatMap(Int.init) ?? 0
        }
        guard version >= Self.oldestServerVersion else {
            throw PostgresLedgerError(description:
                "PostgreSQL at \(location.server) is version \(version / 10_000).\(version % 10_000); the ledger needs 12 or later")
        }
        return version
    }

    /// Connects once and brings the schema up to date: the baseline in an empty database, nothing in
    /// a current one, a refusal for one a newer QuantFleet migrated.
    public func migrate() throws {
        try PostgresStore(connector: self, readOnly: false).write { try PostgresMigrator.migrate($0, location: location) }
    }

    /// Runs `body` on a connection of its own, closed afterwards whatever happens. A LedgerError
    /// or LedgerUnreachable passes through; any other error is said in terms of the ledger's location.
    func withConnection<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await connect()
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error is LedgerError || error is LedgerUnreachable ? error : explained(error)
        }
    }

    private func connect() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(configuration: try configuration(), id: 0, logger: logger)
        } catch {
            throw explained(error)
        }
    }

    /// A connection for the synchronous ledger (`PostgresStore`), which calls it on the ledger's own
    /// thread, never on an event loop.
    func connectWaiting() throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: try configuration(), id: 0, logger: logger
            ).wait()
        } catch {
            throw explained(error)
        }
    }

    private func configuration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch location.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: location.user, password: location.password,
                                  database: location.database, tls: try tls())
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: location.user, password: location.password, database: location.database)
        }
        // Set up (TCP, TLS, authentication) in this long, or taken as unreachable. A connection
        // begun during a partition is never answered; once the route is back, the coordinator waits
        // out at most this much of it before a new one reaches the server.
        configuration.options.connectTimeout = .milliseconds(Int64(Self.abandonedTransactionMillis))
        configuration.options.additionalStartupParameters = [
            // The ledger's timestamps are UTC, written as SQLite's ledger writes them: without a zone.
            ("TimeZone", "UTC"),
            // The server gives up a connection whose data goes unacknowledged this long (a client
            // cut off without a reset), instead of after TCP's own retries, which take minutes. Write
            // transactions also end when abandoned this long (`PostgresStore.write`). Both are under
            // the coordinators' own statement timeout (`Ledger.postgresStatementTimeout`), so one
            // waiting for the lock is not taken for cut off itself.
            ("tcp_user_timeout", "\(Self.abandonedTransactionMillis)"),
        ]
        return configuration
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch location.tls {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: unverified))
        case .require: return .require(try NIOSSLContext(configuration: unverified))
        case .verifyFull: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// `error` said in terms of the ledger's location. PSQLError's own description is a fixed
    /// placeholder, so the server's fields are read here.
    func explained(_ error: any Error) -> PostgresLedgerError {
        let server = location.server
        guard let error = error as? PSQLError else {
            return PostgresLedgerError(description: "cannot connect to PostgreSQL at \(server): \(error)")
        }
        let message = error.serverInfo?[.message] ?? ""
        switch (error.code, error.serverInfo?[.sqlState]) {
        case (.server, "28P01"), (.server, "28000"):
            return PostgresLedgerError(description: "PostgreSQL at \(server) refused user \(location.user): \(message)")
        case (.server, "3D000"):
            return PostgresLedgerError(description: "PostgreSQL at \(server) has no database \(location.database)")
        case (.server, let state):
            return PostgresLedgerError(description: "PostgreSQL at \(server) refused: \(message) (SQLSTATE \(state ?? "unknown"))")
        case (.authMechanismRequiresPassword, _):
            return PostgresLedgerError(description:
                "PostgreSQL at \(server) asks user \(location.user) for a password, and none was given (in the URI, or PGPASSWORD)")
        case (.sslUnsupported, _):
            return PostgresLedgerError(description:
                "PostgreSQL at \(server) does not offer TLS, which sslmode=\(location.tls.rawValue) demands")
        case (.connectionError, _):
            return PostgresLedgerError(description: "cannot reach PostgreSQL at \(server): \(error.underlying.map { "\($0)" } ?? "no connection")")
        default:
            return PostgresLedgerError(description: "cannot connect to PostgreSQL at \(server): \(error.code)")
        }
    }
}

public struct PostgresLedgerError: Error, CustomStringConvertible {
    public let description: String
}

extension PostgresConnection {
    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws, its error
    /// rethrown as it is (postgres-nio's `withTransaction` wraps it in a PostgresTransactionError).
    func inTransaction<Result>(logger: Logger, _ body: () async throws -> Result) async throws -> Result {
        try await query("BEGIN", logger: logger)
        do {
            let result = try await body()
            try await query("COMMIT", logger: logger)
            return result
        } catch {
            _ = try? await query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
