import GRDB

/// One transaction on the ledger, on whichever engine holds it. The ledger's SQL is written once,
/// with `?` placeholders and the types both engines read alike (`PostgresSchema` says which); what
/// differs is in `SQLDialect`. Values go in and come out as GRDB's `DatabaseValue`, and rows as GRDB
/// `Row`s, so the records decode the same from either engine.
protocol LedgerSession {
    var dialect: SQLDialect { get }

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(sql: String, arguments: [DatabaseValue]) throws -> Int

    /// Every row of one statement, read by column name.
    func fetchRows(sql: String, arguments: [DatabaseValue]) throws -> [Row]

    /// The first column of every row of one statement.
    func fetchFirstColumn(sql: String, arguments: [DatabaseValue]) throws -> [DatabaseValue]

    /// One statement's result with its columns in order, for `quantfleet ledger query` and copies.
    func fetchTable(sql: String, arguments: [DatabaseValue]) throws -> (columns: [String], rows: [[DatabaseValue]])

    /// Tells the other coordinators sharing the ledger, once this transaction commits, that what
    /// agents should serve may have changed (`Ledger.listenForAssignmentChanges`). A SQLite ledger
    /// has one coordinator, and nobody to tell.
    func announceAssignmentChange() throws
}

/// Arguments as the ledger's code writes them: an array literal of Swift values.
typealias SQLArguments = [(any DatabaseValueConvertible)?]

/// `INSERT INTO table (columns) VALUES (?, ...)`, as both engines run it.
func insertStatement(into table: String, columns: [String]) -> String {
    "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
}

extension LedgerSession {
    @discardableResult
    func execute(sql: String, arguments: SQLArguments = []) throws -> Int {
        try execute(sql: sql, arguments: arguments.map(\.databaseValueOrNull))
    }

    func fetchTable(sql: String, arguments: SQLArguments = []) throws -> (columns: [String], rows: [[DatabaseValue]]) {
        try fetchTable(sql: sql, arguments: arguments.map(\.databaseValueOrNull))
    }

    /// Stores a record as GRDB's `PersistableRecord.insert` would; `ignoringConflicts` keeps the
    /// stored row when one with the same key exists.
    func insert<Record: EncodableRecord & TableRecord>(_ record: Record, ignoringConflicts: Bool = false) throws {
        // Sorted, so the statement's text (and SQLite's cached statement) is the same every time.
        let values = try record.databaseDictionary.sorted { $0.key < $1.key }
        try execute(
            sql: insertStatement(into: Record.databaseTableName, columns: values.map(\.key))
                + (ignoringConflicts ? " ON CONFLICT DO NOTHING" : ""),
            arguments: values.map(\.value))
    }
}

extension Optional where Wrapped == any DatabaseValueConvertible {
    var databaseValueOrNull: DatabaseValue { self?.databaseValue ?? .null }
}

extension FetchableRecord {
    static func fetchAll(_ session: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try session.fetchRows(sql: sql, arguments: arguments.map(\.databaseValueOrNull)).map { try Self(row: $0) }
    }

    static func fetchOne(_ session: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> Self? {
        try fetchAll(session, sql: sql, arguments: arguments).first
    }
}

extension DatabaseValueConvertible {
    /// The first column of every row, decoded; a NULL is an error, as in GRDB.
    static func fetchAll(_ session: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try session.fetchFirstColumn(sql: sql, arguments: arguments.map(\.databaseValueOrNull)).map { value in
            guard let decoded = Self.fromDatabaseValue(value) else {
                throw LedgerError.unexpectedValue(column: "the first column of \(sql)", value: "\(value)")
            }
            return decoded
        }
    }

    /// The first column of the first row, decoded; nil without rows or for NULL.
    static func fetchOne(_ session: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let value = try session.fetchFirstColumn(sql: sql, arguments: arguments.map(\.databaseValueOrNull)).first,
              !value.isNull
        else { return nil }
        guard let decoded = Self.fromDatabaseValue(value) else {
            throw LedgerError.unexpectedValue(column: "the first column of \(sql)", value: "\(value)")
        }
        return decoded
    }
}

extension Row {
    static func fetchAll(_ session: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> [Row] {
        try session.fetchRows(sql: sql, arguments: arguments.map(\.databaseValueOrNull))
    }

    static func fetchOne(_ session: any LedgerSession, sql: String, arguments: SQLArguments = []) throws -> Row? {
        try fetchAll(session, sql: sql, arguments: arguments).first
    }
}
