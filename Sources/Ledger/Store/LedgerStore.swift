import GRDB

/// Where a ledger lives, as the coordinator and the CLI open it: one transaction at a time, each
/// given a `LedgerSession`. `read` sees one consistent snapshot; `write` is the only writer while
/// it runs, on every coordinator that shares the ledger.
protocol LedgerStore: Sendable {
    /// The file, or the PostgreSQL server and database (without a password), for messages.
    var location: String { get }
    func read<Value>(_ body: (any LedgerSession) throws -> Value) throws -> Value
    func write<Value>(_ body: (any LedgerSession) throws -> Value) throws -> Value
    /// Calls `changed` whenever another coordinator sharing the ledger announced an assignment
    /// change (`LedgerSession.announceAssignmentChange`), until the task is cancelled.
    func listenForAssignmentChanges(_ changed: @escaping @Sendable () -> Void) async
}

/// A SQLite ledger: a `DatabasePool` for the coordinator (readers never block the writer), a
/// read-only `DatabaseQueue` for `LedgerReader`, whose writes SQLite itself refuses.
struct SQLiteStore: LedgerStore {
    let location: String
    let database: any DatabaseWriter

    func read<Value>(_ body: (any LedgerSession) throws -> Value) throws -> Value {
        try database.read { try body(SQLiteSession(db: $0)) }
    }

    func write<Value>(_ body: (any LedgerSession) throws -> Value) throws -> Value {
        try database.write { try body(SQLiteSession(db: $0)) }
    }

    /// One coordinator per SQLite ledger: no other's changes to hear of.
    func listenForAssignmentChanges(_ changed: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
}
