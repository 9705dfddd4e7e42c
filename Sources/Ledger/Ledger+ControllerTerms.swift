import Foundation
import GRDB

/// One term of the rollout controller (migration v11): while it lasts, only its holder's decisions
/// and rollout events are stored.
public struct ControllerTerm: Sendable, Equatable {
    /// The fencing token: 1 for the ledger's first term, one more for each term after.
    public var token: Int64
    /// The coordinator holding it: host, agent port and process id.
    public var holder: String
    /// Where its admin API is, if it serves one: the other coordinators redirect operators' rollout
    /// commands there.
    public var adminURL: String?
    public var startedAt: Date
    public var expiresAt: Date
}

/// The controller lease: every coordinator sharing the ledger asks for it every second or so; one
/// holds it, renewing it before it expires, and the others take it over once it has expired (a
/// killed or cut-off holder). Times come from the database's clock, so coordinators on machines
/// whose clocks differ agree on who holds it.
extension Ledger {
    /// Renews `holder`'s term, or starts a new one if the last has expired; returns the term if
    /// `holder` holds it, nil while another coordinator's term runs. Fenced writes made through
    /// this ledger afterwards carry the term's token.
    @discardableResult
    public func acquireControllerTerm(holder: String, adminURL: String? = nil, lasting duration: Duration) throws -> ControllerTerm? {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        precondition(seconds > 0, "a term lasts some time")
        let term = try store.write { db -> ControllerTerm? in
            let expiry = db.dialect.now(plus: seconds)
            if let latest = try Row.fetchOne(db, sql: """
                SELECT token, holder, expires_at > \(db.dialect.now()) AS live FROM controller_terms ORDER BY token DESC LIMIT 1
                """), latest["live"] as Bool {
                guard latest["holder"] as String == holder else { return nil }
                try db.execute(
                    sql: "UPDATE controller_terms SET expires_at = \(expiry), admin_url = ? WHERE token = ?",
                    arguments: [adminURL, latest["token"] as Int64])
                return try Self.term(db, token: latest["token"])
            }
            let token = try Int64.fetchOne(db, sql: """
                INSERT INTO controller_terms (token, holder, admin_url, started_at, expires_at)
                SELECT COALESCE(MAX(token), 0) + 1, ?, ?, \(db.dialect.now()), \(expiry) FROM controller_terms
                RETURNING token
                """, arguments: [holder, adminURL])!
            return try Self.term(db, token: token)
        }
        if let term { heldToken.withLockedValue { $0 = term.token } }
        return term
    }

    /// The newest term, live or expired; nil before any coordinator took one.
    public func latestControllerTerm() throws -> ControllerTerm? {
        try store.read { db in try LedgerQueries.controllerTerms(db).last }
    }

    /// Every term so far, first first: who controlled the rollouts when.
    public func controllerTerms() throws -> [ControllerTerm] {
        try store.read { db in try LedgerQueries.controllerTerms(db) }
    }

    private static func term(_ db: any LedgerSession, token: Int64) throws -> ControllerTerm {
        try LedgerQueries.controllerTerms(db, token: token)[0]
    }
}

extension LedgerReader {
    /// Every controller term so far, first first: who controlled the rollouts when.
    public func controllerTerms() throws -> [ControllerTerm] {
        try store.read { db in try LedgerQueries.controllerTerms(db) }
    }
}

extension LedgerQueries {
    /// Every term, or the one with `token`, first first.
    static func controllerTerms(_ db: any LedgerSession, token: Int64? = nil) throws -> [ControllerTerm] {
        let rows = try token.map { try Row.fetchAll(db, sql: "SELECT * FROM controller_terms WHERE token = ?", arguments: [$0]) }
            ?? Row.fetchAll(db, sql: "SELECT * FROM controller_terms ORDER BY token")
        return rows.map { row in
            ControllerTerm(
                token: row["token"], holder: row["holder"], adminURL: row["admin_url"], startedAt: row["started_at"],
                expiresAt: row["expires_at"])
        }
    }
}
