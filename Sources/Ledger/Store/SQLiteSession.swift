import GRDB

/// A transaction on a SQLite ledger: GRDB's `Database`, with every statement prepared once and
/// cached (ingest runs the same few statements for every window).
struct SQLiteSession: LedgerSession {
    let db: Database

    var dialect: SQLDialect { .sqlite }

    func execute(sql: String, arguments: [DatabaseValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
        return db.changesCount
    }

    func fetchRows(sql: String, arguments: [DatabaseValue]) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
    }

    func fetchFirstColumn(sql: String, arguments: [DatabaseValue]) throws -> [DatabaseValue] {
        try DatabaseValue.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
    }

    func announceAssignmentChange() {}

    func fetchTable(sql: String, arguments: [DatabaseValue]) throws -> (columns: [String], rows: [[DatabaseValue]]) {
        // Not cached: this serves SQL that engineers type.
        let statement = try db.makeStatement(sql: sql)
        let rows = try Row.fetchAll(statement, arguments: StatementArguments(arguments)).map { Array($0.databaseValues) }
        return (statement.columnNames, rows)
    }
}
