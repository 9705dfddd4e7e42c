import Foundation

/// Where a PostgreSQL ledger is, spelt as libpq spells a connection URI:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`, or
/// `postgres://USER@/DATABASE?host=/run/postgresql` for a Unix socket directory. Without a password
/// in the URI, `PGPASSWORD` gives it, as it does to psql.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself: the directory plus `.s.PGSQL.PORT`.
        case socket(path: String)
    }

    /// libpq's sslmode values, with libpq's meaning: `require` encrypts without checking the
    /// server's certificate; `verify-full` checks it and its host name against the system's roots.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public static let defaultPort = 5432

    /// Whether `text` names a PostgreSQL ledger rather than a SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func refuse(_ problem: String) -> PostgresLocationError {
            PostgresLocationError(location: Self.redacted(text), problem: problem)
        }
        guard Self.isPostgres(text) else { throw refuse("it does not start with postgres:// or postgresql://") }
        guard let components = URLComponents(string: text) else { throw refuse("it is not a valid URI") }
        guard let user = components.user, !user.isEmpty else { throw refuse("it names no user (postgres://USER@HOST/DATABASE)") }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty, !database.contains("/") else { throw refuse("it names no database (postgres://USER@HOST/DATABASE)") }
        var socketDirectory: String?
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host":
                guard let value = item.value, value.hasPrefix("/") else { throw refuse("host= must be a socket directory, an absolute path") }
                socketDirectory = value
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw refuse("sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            default:
                throw refuse("unknown parameter \(item.name) (known: host, sslmode)")
            }
        }
        let port = components.port ?? Self.defaultPort
        guard (1...65535).contains(port) else { throw refuse("port \(port) is out of range") }
        if let socketDirectory {
            guard components.host?.isEmpty ?? true else { throw refuse("it names both a host and a socket directory") }
            endpoint = .socket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
        } else {
            guard let host = components.host, !host.isEmpty else { throw refuse("it names no host (or ?host=/socket/directory)") }
            endpoint = .tcp(host: host, port: port)
        }
        self.user = user
        self.password = components.password ?? environment["PGPASSWORD"]
        self.database = database
        self.tls = tls
    }

    /// The URI without its password, for logs and errors.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
        case .socket(let path): "postgres://\(user)@/\(database)?host=\(path)"
        }
    }

    /// Where the server is, for messages: `host:port` or the socket's path.
    public var server: String {
        switch endpoint {
        case .tcp(let host, let port): "\(host):\(port)"
        case .socket(let path): path
        }
    }

    /// `text` with any password replaced, so that an error never prints one.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "(a connection URI)"
    }
}

public struct PostgresLocationError: Error, CustomStringConvertible, Equatable {
    public let location: String
    public let problem: String

    public var description: String { "the ledger location \(location) is not a PostgreSQL connection URI: \(problem)" }
}
