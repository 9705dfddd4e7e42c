/// A migration after PostgreSQL's baseline (`PostgresSchema`), written once for both engines: its
/// statements are made for a dialect, which supplies the types and triggers that differ. SQLite's
/// migrator registers them after its own (`LedgerSchema`), PostgreSQL's after the baseline
/// (`PostgresMigrator`), in this order.
struct SharedMigration: Sendable {
    let identifier: String
    let statements: @Sendable (SQLDialect) -> [String]

    static let all: [SharedMigration] = [controllerTerms, modelChunks, planMinimumAgentVersion]

    /// v11: one rollout controller at a time among the coordinators sharing a ledger. Each term of a
    /// controller is a row: its fencing token (1, 2, 3, ...), who holds it, where its admin API is
    /// (the others send operators' rollout commands there), and until when. Every
    /// decision and every rollout event (stage changes, promotions, operators' commands) carries the
    /// token of the term it was written in, and the database refuses one whose token is not the
    /// newest term's or whose term has expired: a controller that lost its lease (paused, cut off)
    /// cannot write when it wakes. Agents' reports are events too, written by whichever coordinator
    /// the agent is connected to, and carry no token.
    static let controllerTerms = SharedMigration(identifier: "v11-controller-terms") { sql in
        let currentTerm = """
            EXISTS (SELECT 1 FROM controller_terms t WHERE t.token = NEW.fencing_token AND t.expires_at > \(sql.now())
                    AND t.token = (SELECT MAX(token) FROM controller_terms))
            """
        return [
            """
            CREATE TABLE controller_terms (
                token       \(sql.integer) NOT NULL PRIMARY KEY CHECK (token >= 1),
                holder      \(sql.text) NOT NULL,
                admin_url   \(sql.text),
                started_at  \(sql.timestamp) NOT NULL,
                expires_at  \(sql.timestamp) NOT NULL
            )\(sql.tableOptions)
            """,
            "ALTER TABLE decisions ADD COLUMN fencing_token \(sql.integer)",
            "ALTER TABLE rollout_events ADD COLUMN fencing_token \(sql.integer)",
        ]
            + sql.refusingInserts(into: "decisions", unless: currentTerm, message: Self.staleTokenMessage)
            + sql.refusingInserts(
                into: "rollout_events", unless: "NEW.actor LIKE 'agent:%' OR \(currentTerm)", message: Self.staleTokenMessage)
    }

    /// v12: the models' bytes, in chunks, so that every coordinator sharing a PostgreSQL ledger can
    /// send any registered model to its agents, whichever coordinator it was registered on. A SQLite
    /// ledger's one coordinator has every model in its own store and leaves the table empty.
    static let modelChunks = SharedMigration(identifier: "v12-model-chunks") { sql in
        ["""
            CREATE TABLE model_chunks (
                sha256  \(sql.text) NOT NULL REFERENCES models(sha256),
                chunk   \(sql.integer) NOT NULL CHECK (chunk >= 0),
                bytes   \(sql.blob) NOT NULL,
                PRIMARY KEY (sha256, chunk)
            )\(sql.tableOptions)
            """]
    }

    /// v13: a staged rollout may target only agents of at least one QuantFleet release (a fleet in
    /// the middle of upgrading QuantFleet itself). NULL: any version, as before.
    static let planMinimumAgentVersion = SharedMigration(identifier: "v13-plan-minimum-agent-version") { sql in
        ["ALTER TABLE rollout_plans ADD COLUMN minimum_agent_version \(sql.text)"]
    }

    static let staleTokenMessage = "fencing token is not that of the current controller term"
}
