import Foundation

/// Where a ledger is, as `ledger:` in coordinator.yaml and `--db` on the command line say it: a
/// `postgres://` (or `postgresql://`) URI, or else a SQLite file's path.
public enum LedgerLocation: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case postgres(PostgresLocation)

    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self = PostgresLocation.isPostgres(text) ? .postgres(try PostgresLocation(parsing: text, environment: environment)) : .file(text)
    }

    /// The path, or the URI without its password.
    public var description: String {
        switch self {
        case .file(let path): return path
        case .postgres(let location): return "\(location)"
        }
    }
}
