import GRDB
import PostgresNIO

/// A statement refused by one of the schema's constraints, recognised on either engine, so that the
/// ledger can say which window or request was wrong.
struct ConstraintViolation {
    enum Kind {
        case foreignKey, check, unique
        /// One of the ledger's triggers (`SQLDialect.refusingInserts`) refused the row.
        case trigger
    }

    let kind: Kind
    let message: String

    init?(_ error: any Error) {
        if let error = error as? DatabaseError {
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_FOREIGNKEY: kind = .foreignKey
            case .SQLITE_CONSTRAINT_CHECK: kind = .check
            case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY: kind = .unique
            case .SQLITE_CONSTRAINT_TRIGGER: kind = .trigger
            default: return nil
            }
            message = error.message ?? "a \(kind) constraint failed"
        } else if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            switch state {
            case "23503": kind = .foreignKey
            case "23514": kind = .check
            case "23505": kind = .unique
            case SQLDialect.refusedByTrigger: kind = .trigger
            default: return nil
            }
            message = error.serverInfo?[.message] ?? "a \(kind) constraint failed"
        } else {
            return nil
        }
    }
}
