/// The few places where the ledger's SQL differs between its engines. Everything else is written
/// once: upserts as `ON CONFLICT ... DO UPDATE SET ... = excluded....`, new ids with `RETURNING`,
/// greatest-of-two with `CASE`, and aggregates whose every column is grouped.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A key of a JSON object column as text: SQLite keeps JSON as text, PostgreSQL as jsonb.
    func jsonText(_ column: String, key: String) -> String {
        switch self {
        case .sqlite: return #"json_extract(\#(column), '$."\#(key)"')"#
        case .postgres: return "(\(column) ->> '\(key)')"
        }
    }
}
