import GRDB

/// The ledger's schema, as migrations. Tables are STRICT so a buggy writer cannot slip a string into
/// a count, and CHECK constraints keep a window's counts consistent with each other. Timestamps are
/// GRDB's default date text, "yyyy-MM-dd HH:mm:ss.SSS" in UTC, which SQLite's date functions read.
enum LedgerSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: v3)
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: v4)
        }
        migrator.registerMigration("v5") { db in
            try db.execute(sql: v5)  // the running totals are filled by v10's rebuild
        }
        migrator.registerMigration("v6") { db in
            try db.execute(sql: v6)
        }
        migrator.registerMigration("v7-signed-metadata-versions") { db in
            try db.execute(sql: v7SignedMetadataVersions)
        }
        migrator.registerMigration("v8-betting-bounds") { db in
            try db.execute(sql: v8BettingBounds)  // the running totals' betting processes are filled by v10's rebuild
        }
        migrator.registerMigration("v9-ingest-indexes") { db in
            try db.execute(sql: v9IngestIndexes)
        }
        migrator.registerMigration("v10-windows-in-ingest-order") { db in
            try rebuildingViews(db) { try db.execute(sql: v10WindowsInIngestOrder) }
            // A ledger from before v8 gets its betting processes from a rebuild of its totals; on a
            // later one the rebuild rewrites the totals it has. It runs once the windows have their
            // last shape, so that its queries (today's) read the schema they were written for.
            try db.execute(sql: "CREATE TABLE \(runningTotalsRebuildDue) (due INTEGER) STRICT")
        }
        for migration in SharedMigration.all {
            migrator.registerMigration(migration.identifier) { db in
                for statement in migration.statements(.sqlite) { try db.execute(sql: statement) }
                for check in migration.loosenedChecks { try loosen(check, db) }
                if migration.identifier == SharedMigration.lastWindowShapeChange.identifier { try rebuildRunningTotalsIfDue(db) }
            }
        }
        return migrator
    }()

    /// Rewrites one CHECK of a table's CREATE statement in place, by SQLite's procedure for removing
    /// a CHECK (https://sqlite.org/lang_altertable.html, "otheralter"): no row is rewritten, which a
    /// large ledger's windows would make slow, and every row already meets the looser constraint.
    private static func loosen(_ check: SharedMigration.LoosenedCheck, _ db: Database) throws {
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        try db.execute(
            sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
            arguments: [check.sqliteText, "CHECK (\(check.loosened))", check.table])
        guard db.changesCount == 1, try String.fetchOne(
            db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", arguments: [check.table])?
            .contains("CHECK (\(check.loosened))") == true
        else {
            throw LedgerError.unexpectedValue(column: "sqlite_schema.sql of \(check.table)", value: "no \(check.sqliteText) to loosen")
        }
        try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        try db.execute(sql: "PRAGMA writable_schema = OFF")
    }

    /// Marks that v10 asked for the running totals' rebuild: a table, so that the mark outlives a
    /// migration run cut short between the two.
    private static let runningTotalsRebuildDue = "running_totals_rebuild_due"

    private static func rebuildRunningTotalsIfDue(_ db: Database) throws {
        guard try db.tableExists(runningTotalsRebuildDue) else { return }
        try RunningTotalsStore.rebuild(SQLiteSession(db: db))
        try db.execute(sql: "DROP TABLE \(runningTotalsRebuildDue)")
    }

    /// Refuses a ledger that a newer QuantFleet migrated past what this version knows: its tables
    /// may mean what this version's code does not, and writing them could lose what it added.
    static func refuseNewer(_ db: Database, path: String) throws {
        try refuseNewer(applied: migrator.appliedIdentifiers(db), known: migrator.migrations, path: path)
    }

    /// The same for either engine: `applied` holds a migration not in `known`.
    static func refuseNewer(applied: Set<String>, known: [String], path: String) throws {
        let unknown = applied.subtracting(known)
        guard unknown.isEmpty else {
            throw LedgerError.newerSchema(path: path, unknown: unknown.sorted(), known: known.last!)
        }
    }

    /// Views whose SQL both engines run as it is (`PostgresSchema` makes them too).
    static let rolloutSummaryView = """
        CREATE VIEW rollout_summary AS
        SELECT
            r.id                                   AS rollout_id,
            r.model_name                           AS model_name,
            r.status                               AS status,
            r.outcome                              AS outcome,
            p.state                                AS plan_state,
            p.stage                                AS current_stage,
            p.stages                               AS stages,
            r.created_at                           AS created_at,
            r.decided_at                           AS decided_at,
            d.outcome                              AS latest_decision,
            d.metric                               AS latest_metric,
            d.n                                    AS latest_n,
            d.statistic                            AS latest_statistic,
            d.lower_bound                          AS latest_lower_bound,
            d.upper_bound                          AS latest_upper_bound,
            d.policy_version                       AS policy_version
        FROM rollouts r
        LEFT JOIN rollout_plans p ON p.rollout_id = r.id
        LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions WHERE rollout_id = r.id)
        """

    static let decisionHistoryView = """
        CREATE VIEW decision_history AS
        SELECT
            d.id, d.rollout_id, r.model_name, d.stage, d.decided_at, d.outcome, d.metric, d.n,
            d.statistic, d.lower_bound, d.upper_bound, d.confidence, d.policy_version,
            d.ship_below, d.stay_fp16_above, d.reason, d.bound_method
        FROM decisions d
        JOIN rollouts r ON r.id = d.rollout_id
        ORDER BY d.id DESC
        """

    /// Runs `change`, which replaces tables, with the views dropped before and created again after:
    /// SQLite refuses to rename a table while a view names a table that does not exist.
    private static func rebuildingViews(_ db: Database, _ change: () throws -> Void) throws {
        let views = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid")
        for view in views { try db.execute(sql: "DROP VIEW \(String.fromDatabaseValue(view["name"])!)") }
        try change()
        for view in views { try db.execute(sql: String.fromDatabaseValue(view["sql"])!) }
    }

    private static let v1 = """
        CREATE TABLE models (
            sha256        TEXT NOT NULL PRIMARY KEY,
            name          TEXT NOT NULL,
            precision     TEXT NOT NULL,
            size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
            registered_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE rollouts (
            id               TEXT NOT NULL PRIMARY KEY,
            model_name       TEXT NOT NULL,
            reference_sha256 TEXT NOT NULL REFERENCES models(sha256),
            candidate_sha256 TEXT NOT NULL REFERENCES models(sha256),
            sampling_rate    REAL NOT NULL CHECK (sampling_rate > 0 AND sampling_rate <= 1),
            window_size      INTEGER NOT NULL CHECK (window_size >= 1),
            policy_version   TEXT NOT NULL,
            status           TEXT NOT NULL CHECK (status IN ('shadowing', 'decided')),
            outcome          TEXT CHECK (outcome IN ('ship', 'needs-qat', 'stay-fp16')),
            created_at       TEXT NOT NULL,
            decided_at       TEXT,
            CHECK ((status = 'decided') = (outcome IS NOT NULL AND decided_at IS NOT NULL))
        ) STRICT;
        -- At most one open rollout per (model, reference, candidate).
        CREATE UNIQUE INDEX rollouts_one_open ON rollouts(model_name, reference_sha256, candidate_sha256)
            WHERE status = 'shadowing';

        CREATE TABLE assignments (
            id         TEXT NOT NULL PRIMARY KEY,
            rollout_id TEXT NOT NULL REFERENCES rollouts(id),
            stage      INTEGER NOT NULL CHECK (stage >= 0),
            created_at TEXT NOT NULL,
            UNIQUE (rollout_id, stage)
        ) STRICT;

        CREATE TABLE agents (
            id            TEXT NOT NULL PRIMARY KEY,
            kernel_path   TEXT NOT NULL,
            agent_version TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at  TEXT NOT NULL
        ) STRICT;

        CREATE TABLE windows (
            \(windowColumnsV1)
            PRIMARY KEY (agent_id, assignment_id, sequence)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX windows_by_assignment ON windows(assignment_id);

        CREATE TABLE decisions (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            rollout_id     TEXT NOT NULL REFERENCES rollouts(id),
            decided_at     TEXT NOT NULL,
            outcome        TEXT NOT NULL CHECK (outcome IN ('ship', 'needs-qat', 'stay-fp16', 'collecting')),
            metric         TEXT NOT NULL,
            n              INTEGER NOT NULL,
            statistic      REAL NOT NULL,
            lower_bound    REAL NOT NULL,
            upper_bound    REAL NOT NULL,
            confidence     REAL NOT NULL,
            policy_version TEXT NOT NULL
        ) STRICT;
        CREATE INDEX decisions_by_rollout ON decisions(rollout_id, id);

        -- One row per rollout with its evidence so far: `SELECT * FROM rollout_evidence`.
        CREATE VIEW rollout_evidence AS
        SELECT
            r.id                                                                    AS rollout_id,
            r.model_name                                                            AS model_name,
            r.status                                                                AS status,
            r.outcome                                                               AS outcome,
            COUNT(w.sequence)                                                       AS windows,
            COUNT(DISTINCT w.agent_id)                                              AS agents,
            COALESCE(SUM(w.count), 0)                                               AS samples,
            COALESCE(SUM(w.count - w.top1_agreements), 0)                           AS disagreements,
            CAST(SUM(w.count - w.top1_agreements) AS REAL) / NULLIF(SUM(w.count), 0) AS disagreement_rate,
            COALESCE(SUM(w.labelled), 0)                                            AS labelled,
            CAST(SUM(w.reference_correct) AS REAL) / NULLIF(SUM(w.labelled), 0)     AS reference_accuracy,
            CAST(SUM(w.candidate_correct) AS REAL) / NULLIF(SUM(w.labelled), 0)     AS candidate_accuracy,
            SUM(w.kl_divergence_sum) / NULLIF(SUM(w.count), 0)                      AS mean_kl,
            MAX(w.max_abs_diff)                                                     AS max_abs_diff,
            CAST(SUM(w.reference_latency_us_sum) AS REAL) / NULLIF(SUM(w.count), 0) AS reference_latency_us_mean,
            CAST(SUM(w.candidate_latency_us_sum) AS REAL) / NULLIF(SUM(w.count), 0) AS candidate_latency_us_mean,
            COALESCE(SUM(w.shadow_drops), 0)                                        AS shadow_drops
        FROM rollouts r
        LEFT JOIN assignments a ON a.rollout_id = r.id
        LEFT JOIN windows w ON w.assignment_id = a.id
        GROUP BY r.id;
        """

    /// Staged rollouts. A staged rollout is a v1 rollout plus a plan: its target (agent labels), its
    /// stages (percentages of the target), the stage it is in, and its state. Each stage has its own
    /// assignment (v1's `assignments.stage`), so its evidence is the windows of that assignment.
    /// `rollouts.status` keeps its v1 meaning: 'shadowing' while open, 'decided' once closed.
    private static let v2 = """
        ALTER TABLE agents ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';   -- JSON object, from Hello
        ALTER TABLE decisions ADD COLUMN stage INTEGER;                    -- NULL for unstaged rollouts

        CREATE TABLE rollout_plans (
            rollout_id        TEXT NOT NULL PRIMARY KEY REFERENCES rollouts(id),
            target            TEXT NOT NULL,   -- JSON object of label -> value; '{}' targets every agent
            stages            TEXT NOT NULL,   -- JSON array of percentages of the target, e.g. [5, 25, 100]
            stage             INTEGER NOT NULL CHECK (stage >= 0),
            state             TEXT NOT NULL CHECK (state IN
                                  ('created', 'running', 'paused', 'held', 'promoted', 'rolled-back', 'aborted')),
            window_max_age_ms INTEGER NOT NULL CHECK (window_max_age_ms >= 1),
            created_by        TEXT NOT NULL
        ) STRICT;

        -- The agents of a staged rollout, with the stage each joined in. Sticky: never removed.
        CREATE TABLE stage_members (
            rollout_id  TEXT NOT NULL REFERENCES rollouts(id),
            agent_id    TEXT NOT NULL REFERENCES agents(id),
            stage       INTEGER NOT NULL CHECK (stage >= 0),
            enrolled_at TEXT NOT NULL,
            PRIMARY KEY (rollout_id, agent_id)
        ) STRICT;
        CREATE INDEX stage_members_by_agent ON stage_members(agent_id);

        -- Who did what to a rollout and why: operators (actor 'operator:<name>') and the controller.
        CREATE TABLE rollout_events (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            rollout_id TEXT NOT NULL REFERENCES rollouts(id),
            at         TEXT NOT NULL,
            actor      TEXT NOT NULL,
            action     TEXT NOT NULL,
            stage      INTEGER,
            reason     TEXT NOT NULL
        ) STRICT;
        CREATE INDEX rollout_events_by_rollout ON rollout_events(rollout_id, id);
        """

    /// Views for engineers: each answers a common question with one SELECT, e.g.
    /// `SELECT * FROM stage_evidence WHERE json_extract(labels, '$.site') = 'plant-7'`.
    private static let v3 = """
        -- One row per rollout: where it stands and its latest decision.
        \(rolloutSummaryView);

        -- Evidence per rollout, stage, agent and kernel path: the slices a stage is judged on.
        CREATE VIEW stage_evidence AS
        SELECT
            a.rollout_id                                                            AS rollout_id,
            a.stage                                                                 AS stage,
            w.agent_id                                                              AS agent_id,
            g.labels                                                                AS labels,
            w.kernel_path                                                           AS kernel_path,
            COUNT(*)                                                                AS windows,
            SUM(w.count)                                                            AS samples,
            CAST(SUM(w.count - w.top1_agreements) AS REAL) / NULLIF(SUM(w.count), 0) AS disagreement_rate,
            SUM(w.labelled)                                                         AS labelled,
            CAST(SUM(w.reference_correct) AS REAL) / NULLIF(SUM(w.labelled), 0)     AS reference_accuracy,
            CAST(SUM(w.candidate_correct) AS REAL) / NULLIF(SUM(w.labelled), 0)     AS candidate_accuracy,
            SUM(w.kl_divergence_sum) / NULLIF(SUM(w.count), 0)                      AS mean_kl,
            MAX(w.ended_at_ms)                                                      AS last_window_ms
        FROM windows w
        JOIN assignments a ON a.id = w.assignment_id
        LEFT JOIN agents g ON g.id = w.agent_id
        GROUP BY a.rollout_id, a.stage, w.agent_id, w.kernel_path;

        -- One row per agent: when it was last seen and how its shadowing went.
        CREATE VIEW agent_health AS
        SELECT
            g.id                                                                    AS agent_id,
            g.labels                                                                AS labels,
            g.kernel_path                                                           AS kernel_path,
            g.agent_version                                                         AS agent_version,
            g.first_seen_at                                                         AS first_seen_at,
            g.last_seen_at                                                          AS last_seen_at,
            COUNT(w.sequence)                                                       AS windows,
            COALESCE(SUM(w.count), 0)                                               AS samples,
            COALESCE(SUM(w.shadow_drops), 0)                                        AS shadow_drops,
            CAST(SUM(w.shadow_drops) AS REAL) / NULLIF(SUM(w.count) + SUM(w.shadow_drops), 0) AS shadow_drop_rate,
            MAX(w.ended_at_ms)                                                      AS last_window_ms
        FROM agents g
        LEFT JOIN windows w ON w.agent_id = g.id
        GROUP BY g.id;

        -- Every evaluation, newest first, with the rollout it belongs to.
        CREATE VIEW decision_history AS
        SELECT
            d.id, d.rollout_id, r.model_name, d.stage, d.decided_at, d.outcome, d.metric, d.n,
            d.statistic, d.lower_bound, d.upper_bound, d.confidence, d.policy_version
        FROM decisions d
        JOIN rollouts r ON r.id = d.rollout_id
        ORDER BY d.id DESC;
        """

    /// Signed manifests, what agents serve after a promotion or a rollback, and decisions that
    /// keep their reason and the policy bands they were held against.
    private static let v4 = """
        ALTER TABLE decisions ADD COLUMN reason TEXT;                  -- NULL before v4
        ALTER TABLE decisions ADD COLUMN ship_below REAL;              -- the policy's bands, fractions
        ALTER TABLE decisions ADD COLUMN stay_fp16_above REAL;
        DROP VIEW decision_history;
        CREATE VIEW decision_history AS
        SELECT
            d.id, d.rollout_id, r.model_name, d.stage, d.decided_at, d.outcome, d.metric, d.n,
            d.statistic, d.lower_bound, d.upper_bound, d.confidence, d.policy_version,
            d.ship_below, d.stay_fp16_above, d.reason
        FROM decisions d
        JOIN rollouts r ON r.id = d.rollout_id
        ORDER BY d.id DESC;

        -- The coordinator's signed statement of a model (a serialized quantfleet.v1.ModelManifest and
        -- its Ed25519 signature); NULL for models registered while the coordinator had no signing key.
        ALTER TABLE models ADD COLUMN manifest BLOB;
        ALTER TABLE models ADD COLUMN signature BLOB;
        -- What the model's outputs mean (JSON of a ShadowEval TaskKind); NULL: top-1 classification.
        ALTER TABLE models ADD COLUMN task TEXT;

        -- Each switch of the model answering an agent's requests, as the agent measured it.
        CREATE TABLE serving_changes (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id         TEXT NOT NULL REFERENCES agents(id),
            assignment_id    TEXT NOT NULL REFERENCES assignments(id),
            at               TEXT NOT NULL,
            mode             TEXT NOT NULL CHECK (mode IN ('shadow', 'promoted', 'rolled-back')),
            primary_sha256   TEXT NOT NULL,
            switch_micros    INTEGER NOT NULL CHECK (switch_micros >= 0),
            loaded_from_disk INTEGER NOT NULL CHECK (loaded_from_disk IN (0, 1))
        ) STRICT;
        CREATE INDEX serving_changes_by_assignment ON serving_changes(assignment_id, id);

        -- Each window broken down by class (classification): agreement by the reference's top-1
        -- class, paired correctness by ground-truth class. The slices a policy judges by class.
        CREATE TABLE window_classes (
            agent_id             TEXT NOT NULL,
            assignment_id        TEXT NOT NULL,
            sequence             INTEGER NOT NULL,
            \(classColumnsV4)
            PRIMARY KEY (agent_id, assignment_id, sequence, class),
            FOREIGN KEY (agent_id, assignment_id, sequence) REFERENCES windows(agent_id, assignment_id, sequence)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX window_classes_by_assignment ON window_classes(assignment_id);

        -- Each evaluation's judged slices: JSON array of {dimension, value, decision}.
        ALTER TABLE decisions ADD COLUMN slices TEXT;

        -- What each model kept resident on the agent (constants + packed weights); NULL: not measured.
        ALTER TABLE windows ADD COLUMN reference_memory_bytes INTEGER CHECK (reference_memory_bytes >= 0);
        ALTER TABLE windows ADD COLUMN candidate_memory_bytes INTEGER CHECK (candidate_memory_bytes >= 0);

        -- The noise floor: requests the agent also ran the reference for on another kernel path,
        -- and how many of those agreed with themselves.
        ALTER TABLE windows ADD COLUMN floor_samples INTEGER NOT NULL DEFAULT 0 CHECK (floor_samples >= 0);
        ALTER TABLE windows ADD COLUMN floor_agreements INTEGER NOT NULL DEFAULT 0
            CHECK (floor_agreements BETWEEN 0 AND floor_samples);

        -- Measures beyond the decision counts: margin flips and classes shared by the top-5 lists
        -- (classification), nearest-neighbour agreement (embeddings), and the error and latency
        -- quantile sketches as JSON (ShadowEval WindowSketches; they merge exactly).
        ALTER TABLE windows ADD COLUMN margin_flips INTEGER NOT NULL DEFAULT 0 CHECK (margin_flips >= 0);
        ALTER TABLE windows ADD COLUMN top5_shared_classes INTEGER NOT NULL DEFAULT 0 CHECK (top5_shared_classes >= 0);
        ALTER TABLE windows ADD COLUMN neighbour_samples INTEGER NOT NULL DEFAULT 0 CHECK (neighbour_samples >= 0);
        ALTER TABLE windows ADD COLUMN neighbour_agreements INTEGER NOT NULL DEFAULT 0
            CHECK (neighbour_agreements BETWEEN 0 AND neighbour_samples);
        ALTER TABLE windows ADD COLUMN sketches TEXT;
        """

    /// The windows' columns as v1 made them; v10 makes the table again with the same ones first.
    private static let windowColumnsV1 = """
        agent_id                 TEXT NOT NULL,
            assignment_id            TEXT NOT NULL REFERENCES assignments(id),
            sequence                 INTEGER NOT NULL,
            started_at_ms            INTEGER NOT NULL,
            ended_at_ms              INTEGER NOT NULL,
            count                    INTEGER NOT NULL CHECK (count >= 0),
            top1_agreements          INTEGER NOT NULL CHECK (top1_agreements BETWEEN 0 AND count),
            -- NULL when the window saw a NaN output (SQLite stores NaN as NULL).
            kl_divergence_sum        REAL CHECK (kl_divergence_sum >= 0),
            max_abs_diff             REAL,
            labelled                 INTEGER NOT NULL CHECK (labelled BETWEEN 0 AND count),
            reference_correct        INTEGER NOT NULL CHECK (reference_correct BETWEEN 0 AND labelled),
            candidate_correct        INTEGER NOT NULL CHECK (candidate_correct BETWEEN 0 AND labelled),
            reference_only_correct   INTEGER NOT NULL CHECK (reference_only_correct BETWEEN 0 AND reference_correct),
            candidate_only_correct   INTEGER NOT NULL CHECK (candidate_only_correct BETWEEN 0 AND candidate_correct),
            reference_latency_us_sum INTEGER NOT NULL CHECK (reference_latency_us_sum >= 0),
            candidate_latency_us_sum INTEGER NOT NULL CHECK (candidate_latency_us_sum >= 0),
            shadow_drops             INTEGER NOT NULL CHECK (shadow_drops >= 0),
            kernel_path              TEXT NOT NULL,
            ingested_at              TEXT NOT NULL,
        """

    /// A class row's counts as v4 made them; v10 keys them differently.
    private static let classColumnsV4 = """
        class                INTEGER NOT NULL CHECK (class >= 0),
            samples              INTEGER NOT NULL CHECK (samples >= 0),
            agreements           INTEGER NOT NULL CHECK (agreements BETWEEN 0 AND samples),
            both_right           INTEGER NOT NULL CHECK (both_right >= 0),
            reference_only_right INTEGER NOT NULL CHECK (reference_only_right >= 0),
            candidate_only_right INTEGER NOT NULL CHECK (candidate_only_right >= 0),
            both_wrong           INTEGER NOT NULL CHECK (both_wrong >= 0),
        """

    /// The decision counts both running-totals tables keep (`EvidenceTotals`), with their consistency checks.
    private static let decisionCounts = """
        windows                  INTEGER NOT NULL CHECK (windows >= 0),
            samples                  INTEGER NOT NULL CHECK (samples >= 0),
            disagreements            INTEGER NOT NULL CHECK (disagreements BETWEEN 0 AND samples),
            labelled                 INTEGER NOT NULL CHECK (labelled >= 0),
            reference_correct        INTEGER NOT NULL CHECK (reference_correct BETWEEN 0 AND labelled),
            candidate_correct        INTEGER NOT NULL CHECK (candidate_correct BETWEEN 0 AND labelled),
            reference_only_correct   INTEGER NOT NULL CHECK (reference_only_correct BETWEEN 0 AND reference_correct),
            candidate_only_correct   INTEGER NOT NULL CHECK (candidate_only_correct BETWEEN 0 AND candidate_correct),
            floor_samples            INTEGER NOT NULL CHECK (floor_samples >= 0),
            floor_disagreements      INTEGER NOT NULL CHECK (floor_disagreements BETWEEN 0 AND floor_samples)
        """

    /// Evidence that folds (issue 23): running totals per rollout, stage and slice, added to in the
    /// transaction that stores each window, so a decision reads a few rows instead of re-summing
    /// every window; windows numbered in ingest order, which sequential bounds that bet window by
    /// window replay; and each window's device class as it was when the window arrived (the slice it
    /// counts in, whatever labels its agent reports later).
    private static let v5 = """
        -- Ingest order, 1, 2, 3, ... over the whole ledger: the order the totals folded the windows
        -- in. Windows stored before v5 are numbered by ingested_at (then assignment, agent, sequence).
        ALTER TABLE windows ADD COLUMN ingest_order INTEGER CHECK (ingest_order >= 1);
        ALTER TABLE windows ADD COLUMN device_class TEXT;   -- the agent's device-class label; NULL: none
        UPDATE windows SET ingest_order = ranked.n
        FROM (SELECT agent_id, assignment_id, sequence,
                     ROW_NUMBER() OVER (ORDER BY ingested_at, assignment_id, agent_id, sequence) AS n
              FROM windows) AS ranked
        WHERE windows.agent_id = ranked.agent_id AND windows.assignment_id = ranked.assignment_id
          AND windows.sequence = ranked.sequence;
        UPDATE windows SET device_class =
            (SELECT json_extract(g.labels, '$."device-class"') FROM agents g WHERE g.id = windows.agent_id);
        CREATE UNIQUE INDEX windows_by_ingest_order ON windows(ingest_order);
        -- A stage's windows, one by one in ingest order: `WHERE assignment_id = ? ORDER BY ingest_order`.
        CREATE INDEX windows_by_assignment_in_order ON windows(assignment_id, ingest_order);

        -- What each stage's windows add up to: the decision counts, the cost, and the measures with
        -- their merged quantile sketches (JSON, as windows.sketches). `through_ingest_order` is the
        -- last window folded in.
        CREATE TABLE stage_totals (
            rollout_id               TEXT NOT NULL REFERENCES rollouts(id),
            stage                    INTEGER NOT NULL CHECK (stage >= 0),
            through_ingest_order     INTEGER NOT NULL CHECK (through_ingest_order >= 0),
            \(decisionCounts),
            reference_latency_us_sum INTEGER NOT NULL CHECK (reference_latency_us_sum >= 0),
            candidate_latency_us_sum INTEGER NOT NULL CHECK (candidate_latency_us_sum >= 0),
            reference_memory_bytes   INTEGER CHECK (reference_memory_bytes >= 0),   -- the most on any agent
            candidate_memory_bytes   INTEGER CHECK (candidate_memory_bytes >= 0),
            margin_flips             INTEGER NOT NULL CHECK (margin_flips >= 0),
            top5_shared_classes      INTEGER NOT NULL CHECK (top5_shared_classes >= 0),
            neighbour_samples        INTEGER NOT NULL CHECK (neighbour_samples >= 0),
            neighbour_agreements     INTEGER NOT NULL CHECK (neighbour_agreements BETWEEN 0 AND neighbour_samples),
            sketches                 TEXT,
            PRIMARY KEY (rollout_id, stage)
        ) STRICT, WITHOUT ROWID;

        -- The same decision counts per slice: class (the windows' class rows; `windows` counts
        -- class rows), device class and kernel path (whole windows).
        CREATE TABLE slice_totals (
            rollout_id             TEXT NOT NULL REFERENCES rollouts(id),
            stage                  INTEGER NOT NULL CHECK (stage >= 0),
            dimension              TEXT NOT NULL CHECK (dimension IN ('class', 'device-class', 'kernel-path')),
            value                  TEXT NOT NULL,
            \(decisionCounts),
            PRIMARY KEY (rollout_id, stage, dimension, value)
        ) STRICT, WITHOUT ROWID;
        """

    /// What happened to an agent's connection that no rollout owns: a second connection with the
    /// same agent id replaced the first, or was refused because replacements came too often.
    private static let v6 = """
        CREATE TABLE agent_events (
            id       INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id TEXT NOT NULL,
            at       TEXT NOT NULL,
            action   TEXT NOT NULL CHECK (action IN ('replaced', 'replacement-refused')),
            reason   TEXT NOT NULL
        ) STRICT;
        CREATE INDEX agent_events_by_agent ON agent_events(agent_id, id);
        """

    /// Versions for signed metadata (TUF's rules, SECURITY.md). `assignment_versions` is the one
    /// counter every signed assignment takes its version from: AUTOINCREMENT never reuses or lowers
    /// a number, so whatever an agent is sent next carries a higher version than anything before. A
    /// version names one (agent, assignment, mode): sending it again (a renewed expiry) keeps it.
    /// Manifests count per (name, precision), since reference and candidate share a name.
    private static let v7SignedMetadataVersions = """
        CREATE TABLE assignment_versions (
            version       INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id      TEXT NOT NULL,
            assignment_id TEXT NOT NULL REFERENCES assignments(id),
            mode          TEXT NOT NULL CHECK (mode IN ('shadow', 'promoted', 'rolled-back')),
            issued_at     TEXT NOT NULL,
            UNIQUE (agent_id, assignment_id, mode)
        ) STRICT;

        ALTER TABLE models ADD COLUMN manifest_version INTEGER CHECK (manifest_version >= 1);  -- NULL: unsigned, or signed before v7
        ALTER TABLE models ADD COLUMN manifest_key_id TEXT;   -- the signing key's id; NULL as manifest_version
        CREATE UNIQUE INDEX models_manifest_versions ON models(name, precision, manifest_version)
            WHERE manifest_version IS NOT NULL;
        """

    /// Betting confidence sequences: each stage's and slice's betting processes, as counts per bet
    /// size (`BetsCoding`), and which bounds produced each decision. Decisions before v8 were all
    /// beta-binomial. The running totals are then rebuilt, replaying every stage's windows in ingest order.
    private static let v8BettingBounds = """
        ALTER TABLE stage_totals ADD COLUMN bets TEXT NOT NULL DEFAULT '';
        ALTER TABLE slice_totals ADD COLUMN bets TEXT NOT NULL DEFAULT '';
        ALTER TABLE decisions ADD COLUMN bound_method TEXT CHECK (bound_method IN ('betting', 'beta-binomial'));
        UPDATE decisions SET bound_method = 'beta-binomial';

        DROP VIEW decision_history;
        \(decisionHistoryView);
        """

    /// Indexes that every window inserted into at a random place, and that no query needs: a batch
    /// from a thousand agents wrote a thousand pages of each, the more so the larger the ledger.
    /// `windows_by_assignment_in_order` serves every lookup by assignment; a stage's class rows are
    /// reached through its windows. (`ledger bench` at 10^5 windows: 7,400 -> 10,700 windows/s,
    /// and a third less file.)
    private static let v9IngestIndexes = """
        DROP INDEX windows_by_assignment;
        DROP INDEX window_classes_by_assignment;
        """

    /// Windows stored in ingest order (issue 23's burst ingest). Keyed by (agent, assignment,
    /// sequence), every batch from a large fleet wrote its windows and their class rows all over
    /// both tables, a page per window, so ingest slowed as the ledger grew (`ledger bench`: 22,539
    /// windows/s into a new ledger, 9,052 from 10^5 to 10^6). Now `ingest_order` is the windows'
    /// row id and the class rows' key, so both tables grow at their ends; only the unique index that
    /// keeps ingest idempotent is written out of order, and it leads with the sequence. A class row
    /// names its window by ingest order: join `windows USING (ingest_order)` for its agent.
    private static let v10WindowsInIngestOrder = """
        CREATE TABLE windows_v10 (
            ingest_order             INTEGER PRIMARY KEY CHECK (ingest_order >= 1),
            \(windowColumnsV1)
            reference_memory_bytes   INTEGER CHECK (reference_memory_bytes >= 0),
            candidate_memory_bytes   INTEGER CHECK (candidate_memory_bytes >= 0),
            floor_samples            INTEGER NOT NULL CHECK (floor_samples >= 0),
            floor_agreements         INTEGER NOT NULL CHECK (floor_agreements BETWEEN 0 AND floor_samples),
            margin_flips             INTEGER NOT NULL CHECK (margin_flips >= 0),
            top5_shared_classes      INTEGER NOT NULL CHECK (top5_shared_classes >= 0),
            neighbour_samples        INTEGER NOT NULL CHECK (neighbour_samples >= 0),
            neighbour_agreements     INTEGER NOT NULL CHECK (neighbour_agreements BETWEEN 0 AND neighbour_samples),
            sketches                 TEXT,
            device_class             TEXT,
            -- Exactly once. Sequence before agent: a fleet's agents number their windows at about the
            -- same pace, so one batch's entries fall on a few neighbouring pages, not one per agent.
            UNIQUE (assignment_id, sequence, agent_id)
        ) STRICT;
        INSERT INTO windows_v10 (
            ingest_order, agent_id, assignment_id, sequence, started_at_ms, ended_at_ms, count, top1_agreements,
            kl_divergence_sum, max_abs_diff, labelled, reference_correct, candidate_correct, reference_only_correct,
            candidate_only_correct, reference_latency_us_sum, candidate_latency_us_sum, shadow_drops, kernel_path,
            ingested_at, reference_memory_bytes, candidate_memory_bytes, floor_samples, floor_agreements, margin_flips,
            top5_shared_classes, neighbour_samples, neighbour_agreements, sketches, device_class)
        SELECT
            ingest_order, agent_id, assignment_id, sequence, started_at_ms, ended_at_ms, count, top1_agreements,
            kl_divergence_sum, max_abs_diff, labelled, reference_correct, candidate_correct, reference_only_correct,
            candidate_only_correct, reference_latency_us_sum, candidate_latency_us_sum, shadow_drops, kernel_path,
            ingested_at, reference_memory_bytes, candidate_memory_bytes, floor_samples, floor_agreements, margin_flips,
            top5_shared_classes, neighbour_samples, neighbour_agreements, sketches, device_class
        FROM windows ORDER BY ingest_order;

        CREATE TABLE window_classes_v10 (
            ingest_order         INTEGER NOT NULL REFERENCES windows(ingest_order),
            \(classColumnsV4)
            PRIMARY KEY (ingest_order, class)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO window_classes_v10 (
            ingest_order, class, samples, agreements, both_right, reference_only_right, candidate_only_right, both_wrong)
        SELECT w.ingest_order, c.class, c.samples, c.agreements, c.both_right, c.reference_only_right,
               c.candidate_only_right, c.both_wrong
        FROM window_classes c JOIN windows w USING (agent_id, assignment_id, sequence)
        ORDER BY w.ingest_order, c.class;

        DROP TABLE window_classes;
        DROP TABLE windows;
        ALTER TABLE windows_v10 RENAME TO windows;
        ALTER TABLE window_classes_v10 RENAME TO window_classes;
        -- A stage's windows, one by one in ingest order: `WHERE assignment_id = ? ORDER BY ingest_order`.
        CREATE INDEX windows_by_assignment_in_order ON windows(assignment_id, ingest_order);
        """
}
