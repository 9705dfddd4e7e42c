import Foundation

/// Brings a PostgreSQL ledger's schema up to date, as `LedgerSchema.migrator` does SQLite's, and
/// refuses one that a newer QuantFleet migrated. Several coordinators may start at once: a
/// transaction-scoped advisory lock lets one migrate while the others wait, then find it done.
enum PostgresMigrator {
    /// The migrations the baseline stands for: SQLite's, up to the one it equals.
    static let baselineMigrations: [String] = {
        let all = LedgerSchema.migrator.migrations
        return Array(all.prefix(through: all.firstIndex(of: PostgresSchema.baselineEquals)!))
    }()

    /// Every migration a PostgreSQL ledger of this version lists.
    static var known: [String] { baselineMigrations + SharedMigration.all.map(\.identifier) }

    /// "quantflt": the advisory lock migrations take.
    private static let lockKey: Int64 = 0x7175_616e_7466_6c74

    /// Runs in the caller's write transaction (`PostgresStore.write`).
    static func migrate(_ session: any LedgerSession, location: PostgresLocation) throws {
        try session.execute(sql: "SELECT pg_advisory_xact_lock(\(lockKey))")
        try session.execute(sql: PostgresSchema.migrationsTable)
        var applied = try appliedMigrations(session, location: "\(location)")
        if applied.isEmpty {
            for statement in statements(PostgresSchema.baseline) {
                try session.execute(sql: statement)
            }
            for identifier in baselineMigrations {
                try session.execute(sql: "INSERT INTO ledger_migrations (identifier) VALUES (?)", arguments: [identifier])
            }
            applied.formUnion(baselineMigrations)
        }
        for migration in SharedMigration.all where !applied.contains(migration.identifier) {
            for statement in migration.statements(.postgres) {
                try session.execute(sql: statement)
            }
            try session.execute(sql: "INSERT INTO ledger_migrations (identifier) VALUES (?)", arguments: [migration.identifier])
        }
    }

    /// The migrations the ledger lists, refused (`newerSchema`) if any is unknown to this version.
    static func appliedMigrations(_ session: any LedgerSession, location: String) throws -> Set<String> {
        let applied = Set(try String.fetchAll(session, sql: "SELECT identifier FROM ledger_migrations"))
        try LedgerSchema.refuseNewer(applied: applied, known: known, path: location)
        return applied
    }

    /// A script's statements: the extended protocol that binds parameters takes one at a time. The
    /// schema's statements end a line with their semicolon, and none has one inside.
    static func statements(_ script: String) -> [String] {
        script.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
