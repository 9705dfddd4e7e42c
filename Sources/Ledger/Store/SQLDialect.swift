/// The places where the ledger's SQL differs between its engines. Everything else is written once:
/// upserts as `ON CONFLICT ... DO UPDATE SET ... = excluded....`, new ids with `RETURNING`, and
/// aggregates whose every column is grouped. Migrations after PostgreSQL's baseline
/// (`SharedMigration`) take their types and triggers from here.
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

    /// A 64-bit integer column.
    var integer: String { self == .sqlite ? "INTEGER" : "bigint" }
    var text: String { self == .sqlite ? "TEXT" : "text" }
    var blob: String { self == .sqlite ? "BLOB" : "bytea" }
    /// A UTC timestamp: SQLite's ledger keeps GRDB's date text, which sorts as the time does.
    var timestamp: String { self == .sqlite ? "TEXT" : "timestamptz" }
    /// What follows a CREATE TABLE's closing parenthesis: SQLite's tables are STRICT.
    var tableOptions: String { self == .sqlite ? " STRICT" : "" }

    /// The database's clock now, `seconds` ahead: with several coordinators on several machines
    /// one clock, the server's, decides who holds a lease.
    func now(plus seconds: Double = 0) -> String {
        switch self {
        case .sqlite: return "strftime('%Y-%m-%d %H:%M:%f', 'now', '\(seconds) seconds')"
        case .postgres: return "(clock_timestamp() + interval '\(seconds) seconds')"
        }
    }

    /// A trigger that refuses an insert into `table` unless `allowed` holds for the new row (`NEW`);
    /// the refusal's message begins with `message`, and ConstraintViolation knows it as `.trigger`.
    func refusingInserts(into table: String, unless allowed: String, message: String) -> [String] {
        switch self {
        case .sqlite:
            return ["""
                CREATE TRIGGER \(table)_refused BEFORE INSERT ON \(table) WHEN NOT (\(allowed))
                BEGIN SELECT RAISE(ABORT, '\(message)'); END
                """]
        case .postgres:
            return [
                """
                CREATE FUNCTION \(table)_refused() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NOT (\(allowed)) THEN
                        RAISE EXCEPTION '\(message)' USING ERRCODE = '\(Self.refusedByTrigger)';
                    END IF;
                    RETURN NEW;
                END
                $$
                """,
                "CREATE TRIGGER \(table)_refused BEFORE INSERT ON \(table) FOR EACH ROW EXECUTE FUNCTION \(table)_refused()",
            ]
        }
    }

    /// A trigger that drops, without an error, an insert into `table` for which `dropped` holds
    /// (`NEW`, the row): the statement then changes no row, as `ON CONFLICT DO NOTHING` leaves it.
    func ignoringInserts(into table: String, named name: String, when dropped: String) -> [String] {
        switch self {
        case .sqlite:
            return ["CREATE TRIGGER \(name) BEFORE INSERT ON \(table) WHEN \(dropped) BEGIN SELECT RAISE(IGNORE); END"]
        case .postgres:
            return [
                """
                CREATE FUNCTION \(name)() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF \(dropped) THEN
                        RETURN NULL;
                    END IF;
                    RETURN NEW;
                END
                $$
                """,
                "CREATE TRIGGER \(name) BEFORE INSERT ON \(table) FOR EACH ROW EXECUTE FUNCTION \(name)()",
            ]
        }
    }

    /// `expression` as a floating-point number, for a ratio of integer sums.
    func real(_ expression: String) -> String {
        self == .sqlite ? "CAST(\(expression) AS REAL)" : "(\(expression))::double precision"
    }

    /// An integer sum as a 64-bit integer (PostgreSQL sums bigints as numeric).
    func count(_ expression: String) -> String {
        self == .sqlite ? expression : "(\(expression))::bigint"
    }

    /// The SQLSTATE the PostgreSQL triggers above raise (class QF: QuantFleet's own).
    static let refusedByTrigger = "QF001"
}
