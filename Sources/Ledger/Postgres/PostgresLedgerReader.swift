import Foundation
import GRDB
import Logging
import PostgresNIO

/// A read-only view of a PostgreSQL ledger, as `LedgerReader` is of a SQLite file: each query runs
/// in a READ ONLY transaction, so the server refuses any write whatever SQL is passed. (The role it
/// connects as may also lack write grants: Deploy/postgres.)
public struct PostgresLedgerReader: Sendable {
    let connector: PostgresConnector

    public init(location: PostgresLocation, logger: Logger = Logger(label: "quantfleet.ledger")) {
        connector = PostgresConnector(location: location, logger: logger)
    }

    /// Runs one SQL statement and renders every value as text, as `LedgerReader.query` does: NULL as
    /// "NULL", flags as 0 and 1, timestamps as the SQLite ledger spells them (UTC).
    public func query(_ sql: String) async throws -> QueryResult {
        let logger = connector.logger
        // Nothing is committed: the transaction ends with the connection.
        return try await connector.withConnection { connection in
            try await connection.query("BEGIN TRANSACTION READ ONLY", logger: logger)
            try await refuseWhatIsNotALedger(connection)
            var result = QueryResult(columns: [], rows: [])
            do {
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                    if result.columns.isEmpty { result.columns = row.map(\.columnName) }
                    result.rows.append(row.map(Self.text))
                }
            } catch let error as PSQLError {
                throw LedgerError.queryFailed(sql: sql, reason: error.serverInfo?[.message] ?? "\(error.code)")
            }
            return result
        }
    }

    private func refuseWhatIsNotALedger(_ connection: PostgresConnection) async throws {
        let location = connector.location
        let applied: Set<String>
        do {
            applied = try await PostgresMigrator.appliedMigrations(connection, location: location, logger: connector.logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {  // undefined_table
            throw LedgerError.notALedger(path: "\(location)")
        }
        guard !applied.isEmpty else { throw LedgerError.notALedger(path: "\(location)") }
    }

    static func text(_ cell: PostgresCell) -> String {
        guard let bytes = cell.bytes else { return "NULL" }
        let rendered: String?
        switch cell.dataType {
        case .bool: rendered = (try? cell.decode(Bool.self)).map { $0 ? "1" : "0" }
        case .int2, .int4, .int8: rendered = (try? cell.decode(Int64.self)).map { String($0) }
        case .float4, .float8: rendered = (try? cell.decode(Double.self)).map { String($0) }
        case .numeric: rendered = (try? cell.decode(Decimal.self)).map { "\($0)" }
        // GRDB's text for a date: what the SQLite ledger stores.
        case .timestamptz, .timestamp: rendered = (try? cell.decode(Date.self)).flatMap { String.fromDatabaseValue($0.databaseValue) }
        case .bytea: rendered = QueryResult.blobText(bytes.readableBytesView)
        // jsonb's binary form is a version byte, then the text.
        case .jsonb: rendered = String(decoding: bytes.readableBytesView.dropFirst(), as: UTF8.self)
        default: rendered = try? cell.decode(String.self)
        }
        return rendered ?? "(\(cell.dataType))"
    }
}
