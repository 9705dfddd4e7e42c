/// A migration after PostgreSQL's baseline (`PostgresSchema`), written once for both engines: its
/// statements are made for a dialect, which supplies the types and triggers that differ. SQLite's
/// migrator registers them after its own (`LedgerSchema`), PostgreSQL's after the baseline
/// (`PostgresMigrator`), in this order.
struct SharedMigration: Sendable {
    let identifier: String
    let statements: @Sendable (SQLDialect) -> [String]
    /// CHECK constraints made weaker: on PostgreSQL dropped and added again by name (part of
    /// `statements`' run), on SQLite edited in place (`LedgerSchema`), which SQLite documents as
    /// safe for loosening a CHECK: every stored row already meets the weaker one.
    var loosenedChecks: [LoosenedCheck] = []

    struct LoosenedCheck: Sendable {
        let table: String
        /// PostgreSQL's name for it.
        let constraint: String
        /// SQLite's text of it, as its CREATE TABLE has it.
        let sqliteText: String
        let loosened: String

        var postgresStatement: String {
            "ALTER TABLE \(table) DROP CONSTRAINT \(constraint), ADD CONSTRAINT \(constraint) CHECK (\(loosened))"
        }
    }

    init(identifier: String, loosenedChecks: [LoosenedCheck] = [], statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.identifier = identifier
        self.loosenedChecks = loosenedChecks
        self.statements = { dialect in statements(dialect) + (dialect == .postgres ? loosenedChecks.map(\.postgresStatement) : []) }
    }

    static let all: [SharedMigration] = [controllerTerms, modelChunks, planMinimumAgentVersion, windowRollups]

    /// The last migration that changes the windows' tables: SQLite's rebuild of running totals for
    /// a ledger from before v10 runs after it (`LedgerSchema`).
    static let lastWindowShapeChange = windowRollups

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

    /// v14: retention. Windows older than a configured age are rolled up (`WindowRollup`): one row
    /// per (assignment, agent, day, kernel path, device class) stands for the windows it replaced
    /// (`windows_merged`), with their counts, cost and measures merged, and so do its class rows.
    /// A rolled-up row's sequence is minus its ingest order, so it never meets an agent's own.
    /// `rolled_sequences` keeps which sequences were rolled up, as ranges, and a trigger drops a
    /// window resent with one of them, as the unique key drops a stored window's resend: ingest stays
    /// exactly once. `rollup_checkpoints` keeps each stage's evidence (with its betting processes)
    /// as of the last rolled-up window, so a replay of the windows after it reproduces the running
    /// totals. The views count windows through `windows_merged`.
    ///
    /// The same column lets a row be a late-label delta (`WindowRecord.isLabelDelta`): labels that
    /// came after their window, with no samples, counted as 0 windows. Such a row, or a rolled-up one
    /// holding deltas, may have more labelled samples than samples, so only a window as it came
    /// (`windows_merged` 1) keeps `labelled <= count`.
    static let windowRollups = SharedMigration(
        identifier: "v14-window-rollups",
        loosenedChecks: [LoosenedCheck(
            table: "windows", constraint: "labelled_within_count", sqliteText: "CHECK (labelled BETWEEN 0 AND count)",
            loosened: "labelled >= 0 AND (labelled <= count OR windows_merged <> 1)")]
    ) { sql in
        [
            "ALTER TABLE windows ADD COLUMN windows_merged \(sql.integer) NOT NULL DEFAULT 1 CHECK (windows_merged >= 0)",
            "ALTER TABLE window_classes ADD COLUMN windows_merged \(sql.integer) NOT NULL DEFAULT 1 CHECK (windows_merged >= 0)",
            """
            CREATE TABLE rolled_sequences (
                assignment_id  \(sql.text) NOT NULL REFERENCES assignments(id),
                agent_id       \(sql.text) NOT NULL,
                first_sequence \(sql.integer) NOT NULL CHECK (first_sequence >= 0),
                last_sequence  \(sql.integer) NOT NULL CHECK (last_sequence >= first_sequence),
                PRIMARY KEY (assignment_id, agent_id, first_sequence)
            )\(sql.tableOptions)
            """,
            """
            CREATE TABLE rollup_checkpoints (
                rollout_id             \(sql.text) NOT NULL REFERENCES rollouts(id),
                stage                  \(sql.integer) NOT NULL CHECK (stage >= 0),
                dimension              \(sql.text) NOT NULL CHECK (dimension IN ('whole', 'class', 'device-class', 'kernel-path')),
                value                  \(sql.text) NOT NULL,
                through_ingest_order   \(sql.integer) NOT NULL CHECK (through_ingest_order >= 1),
                windows                \(sql.integer) NOT NULL CHECK (windows >= 0),
                samples                \(sql.integer) NOT NULL CHECK (samples >= 0),
                disagreements          \(sql.integer) NOT NULL CHECK (disagreements BETWEEN 0 AND samples),
                labelled               \(sql.integer) NOT NULL CHECK (labelled >= 0),
                reference_correct      \(sql.integer) NOT NULL CHECK (reference_correct BETWEEN 0 AND labelled),
                candidate_correct      \(sql.integer) NOT NULL CHECK (candidate_correct BETWEEN 0 AND labelled),
                reference_only_correct \(sql.integer) NOT NULL CHECK (reference_only_correct BETWEEN 0 AND reference_correct),
                candidate_only_correct \(sql.integer) NOT NULL CHECK (candidate_only_correct BETWEEN 0 AND candidate_correct),
                floor_samples          \(sql.integer) NOT NULL CHECK (floor_samples >= 0),
                floor_disagreements    \(sql.integer) NOT NULL CHECK (floor_disagreements BETWEEN 0 AND floor_samples),
                bets                   \(sql.text),
                PRIMARY KEY (rollout_id, stage, dimension, value)
            )\(sql.tableOptions)
            """,
        ]
            + sql.ignoringInserts(into: "windows", named: "windows_rolled_up", when: """
                EXISTS (SELECT 1 FROM rolled_sequences r
                        WHERE r.assignment_id = NEW.assignment_id AND r.agent_id = NEW.agent_id
                          AND r.first_sequence <= NEW.sequence AND NEW.sequence <= r.last_sequence)
                """)
            + ["DROP VIEW rollout_evidence", "DROP VIEW stage_evidence", "DROP VIEW agent_health"]
            + windowViews(sql)
    }

    /// The views that read windows, counting a rolled-up row as the windows it stands for.
    private static func windowViews(_ sql: SQLDialect) -> [String] {
        let (real, count) = (sql.real, sql.count)
        return [
            """
            CREATE VIEW rollout_evidence AS
            SELECT
                r.id                                                                      AS rollout_id,
                r.model_name                                                              AS model_name,
                r.status                                                                  AS status,
                r.outcome                                                                 AS outcome,
                \(count("COALESCE(SUM(w.windows_merged), 0)"))                           AS windows,
                COUNT(DISTINCT w.agent_id)                                                AS agents,
                \(count("COALESCE(SUM(w.count), 0)"))                                    AS samples,
                \(count("COALESCE(SUM(w.count - w.top1_agreements), 0)"))                AS disagreements,
                \(real("SUM(w.count - w.top1_agreements)")) / NULLIF(SUM(w.count), 0)    AS disagreement_rate,
                \(count("COALESCE(SUM(w.labelled), 0)"))                                 AS labelled,
                \(real("SUM(w.reference_correct)")) / NULLIF(SUM(w.labelled), 0)         AS reference_accuracy,
                \(real("SUM(w.candidate_correct)")) / NULLIF(SUM(w.labelled), 0)         AS candidate_accuracy,
                SUM(w.kl_divergence_sum) / NULLIF(SUM(w.count), 0)                        AS mean_kl,
                MAX(w.max_abs_diff)                                                       AS max_abs_diff,
                \(real("SUM(w.reference_latency_us_sum)")) / NULLIF(SUM(w.count), 0)     AS reference_latency_us_mean,
                \(real("SUM(w.candidate_latency_us_sum)")) / NULLIF(SUM(w.count), 0)     AS candidate_latency_us_mean,
                \(count("COALESCE(SUM(w.shadow_drops), 0)"))                             AS shadow_drops
            FROM rollouts r
            LEFT JOIN assignments a ON a.rollout_id = r.id
            LEFT JOIN windows w ON w.assignment_id = a.id
            GROUP BY r.id
            """,
            """
            CREATE VIEW stage_evidence AS
            SELECT
                a.rollout_id                                                              AS rollout_id,
                a.stage                                                                   AS stage,
                w.agent_id                                                                AS agent_id,
                g.labels                                                                  AS labels,
                w.kernel_path                                                             AS kernel_path,
                \(count("SUM(w.windows_merged)"))                                        AS windows,
                \(count("SUM(w.count)"))                                                 AS samples,
                \(real("SUM(w.count - w.top1_agreements)")) / NULLIF(SUM(w.count), 0)    AS disagreement_rate,
                \(count("SUM(w.labelled)"))                                              AS labelled,
                \(real("SUM(w.reference_correct)")) / NULLIF(SUM(w.labelled), 0)         AS reference_accuracy,
                \(real("SUM(w.candidate_correct)")) / NULLIF(SUM(w.labelled), 0)         AS candidate_accuracy,
                SUM(w.kl_divergence_sum) / NULLIF(SUM(w.count), 0)                        AS mean_kl,
                MAX(w.ended_at_ms)                                                        AS last_window_ms
            FROM windows w
            JOIN assignments a ON a.id = w.assignment_id
            LEFT JOIN agents g ON g.id = w.agent_id
            GROUP BY a.rollout_id, a.stage, w.agent_id, g.labels, w.kernel_path
            """,
            """
            CREATE VIEW agent_health AS
            SELECT
                g.id                                                                      AS agent_id,
                g.labels                                                                  AS labels,
                g.kernel_path                                                             AS kernel_path,
                g.agent_version                                                           AS agent_version,
                g.first_seen_at                                                           AS first_seen_at,
                g.last_seen_at                                                            AS last_seen_at,
                \(count("COALESCE(SUM(w.windows_merged), 0)"))                           AS windows,
                \(count("COALESCE(SUM(w.count), 0)"))                                    AS samples,
                \(count("COALESCE(SUM(w.shadow_drops), 0)"))                             AS shadow_drops,
                \(real("SUM(w.shadow_drops)")) / NULLIF(SUM(w.count) + SUM(w.shadow_drops), 0) AS shadow_drop_rate,
                MAX(w.ended_at_ms)                                                        AS last_window_ms
            FROM agents g
            LEFT JOIN windows w ON w.agent_id = g.id
            GROUP BY g.id
            """,
        ]
    }

    static let staleTokenMessage = "fencing token is not that of the current controller term"
}
