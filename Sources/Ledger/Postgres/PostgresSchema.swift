/// The ledger's schema on PostgreSQL: a baseline equal to SQLite's schema after its last migration
/// (`LedgerSchema`), with the same tables, columns, keys and views, so that what an engineer queries
/// and what the coordinator stores mean the same on both engines. Migrations written after the
/// baseline go to both engines at once.
///
/// The differences are of type only, and kept here: SQLite's integers are 64-bit (`bigint`), its
/// REAL a double (`double precision`; PostgreSQL's `real` is 32-bit), BLOB `bytea`, its text
/// timestamps `timestamptz`, its JSON text `jsonb` (labels, targets, stages, slices, tasks; query
/// them as `labels->>'site'`), its 0/1 flags `boolean`, AUTOINCREMENT an identity column. The
/// sketches and bets stay text: the coordinator writes and merges them as it reads them. SUM over a
/// bigint is numeric in PostgreSQL, so the views cast it back. A check that bounds one column by
/// another is named after both (`top1_agreements_within_count`), so that a refused window says which
/// count was wrong, as SQLite's message does.
enum PostgresSchema {
    /// The SQLite migration the baseline equals; both engines then list the same migrations.
    static let baselineEquals = "v10-windows-in-ingest-order"

    /// Applied migrations, as GRDB's `grdb_migrations` keeps them on SQLite.
    static let migrationsTable = """
        CREATE TABLE IF NOT EXISTS ledger_migrations (
            identifier text NOT NULL PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Every window's counts, with the consistency checks SQLite's windows table has.
    private static let decisionCounts = """
        windows                  bigint NOT NULL CHECK (windows >= 0),
            samples                  bigint NOT NULL CHECK (samples >= 0),
            disagreements            bigint NOT NULL CONSTRAINT disagreements_within_samples CHECK (disagreements BETWEEN 0 AND samples),
            labelled                 bigint NOT NULL CHECK (labelled >= 0),
            reference_correct        bigint NOT NULL CONSTRAINT reference_correct_within_labelled CHECK (reference_correct BETWEEN 0 AND labelled),
            candidate_correct        bigint NOT NULL CONSTRAINT candidate_correct_within_labelled CHECK (candidate_correct BETWEEN 0 AND labelled),
            reference_only_correct   bigint NOT NULL CONSTRAINT reference_only_correct_within_reference_correct CHECK (reference_only_correct BETWEEN 0 AND reference_correct),
            candidate_only_correct   bigint NOT NULL CONSTRAINT candidate_only_correct_within_candidate_correct CHECK (candidate_only_correct BETWEEN 0 AND candidate_correct),
            floor_samples            bigint NOT NULL CHECK (floor_samples >= 0),
            floor_disagreements      bigint NOT NULL CONSTRAINT floor_disagreements_within_floor_samples CHECK (floor_disagreements BETWEEN 0 AND floor_samples)
        """

    static let baseline = """
        CREATE TABLE models (
            sha256           text NOT NULL PRIMARY KEY,
            name             text NOT NULL,
            precision        text NOT NULL,
            size_bytes       bigint NOT NULL CHECK (size_bytes >= 0),
            registered_at    timestamptz NOT NULL,
            manifest         bytea,
            signature        bytea,
            task             jsonb,
            manifest_version bigint CHECK (manifest_version >= 1),
            manifest_key_id  text
        );
        CREATE UNIQUE INDEX models_manifest_versions ON models(name, precision, manifest_version)
            WHERE manifest_version IS NOT NULL;

        CREATE TABLE rollouts (
            id               text NOT NULL PRIMARY KEY,
            model_name       text NOT NULL,
            reference_sha256 text NOT NULL REFERENCES models(sha256),
            candidate_sha256 text NOT NULL REFERENCES models(sha256),
            sampling_rate    double precision NOT NULL CHECK (sampling_rate > 0 AND sampling_rate <= 1),
            window_size      bigint NOT NULL CHECK (window_size >= 1),
            policy_version   text NOT NULL,
            status           text NOT NULL CHECK (status IN ('shadowing', 'decided')),
            outcome          text CHECK (outcome IN ('ship', 'needs-qat', 'stay-fp16')),
            created_at       timestamptz NOT NULL,
            decided_at       timestamptz,
            CHECK ((status = 'decided') = (outcome IS NOT NULL AND decided_at IS NOT NULL))
        );
        CREATE UNIQUE INDEX rollouts_one_open ON rollouts(model_name, reference_sha256, candidate_sha256)
            WHERE status = 'shadowing';

        CREATE TABLE assignments (
            id         text NOT NULL PRIMARY KEY,
            rollout_id text NOT NULL REFERENCES rollouts(id),
            stage      bigint NOT NULL CHECK (stage >= 0),
            created_at timestamptz NOT NULL,
            UNIQUE (rollout_id, stage)
        );

        CREATE TABLE agents (
            id            text NOT NULL PRIMARY KEY,
            kernel_path   text NOT NULL,
            agent_version text NOT NULL,
            first_seen_at timestamptz NOT NULL,
            last_seen_at  timestamptz NOT NULL,
            labels        jsonb NOT NULL DEFAULT '{}'
        );

        CREATE TABLE windows (
            ingest_order             bigint NOT NULL PRIMARY KEY CHECK (ingest_order >= 1),
            agent_id                 text NOT NULL,
            assignment_id            text NOT NULL REFERENCES assignments(id),
            sequence                 bigint NOT NULL,
            started_at_ms            bigint NOT NULL,
            ended_at_ms              bigint NOT NULL,
            count                    bigint NOT NULL CHECK (count >= 0),
            top1_agreements          bigint NOT NULL CONSTRAINT top1_agreements_within_count CHECK (top1_agreements BETWEEN 0 AND count),
            kl_divergence_sum        double precision CHECK (kl_divergence_sum >= 0),
            max_abs_diff             double precision,
            labelled                 bigint NOT NULL CONSTRAINT labelled_within_count CHECK (labelled BETWEEN 0 AND count),
            reference_correct        bigint NOT NULL CONSTRAINT reference_correct_within_labelled CHECK (reference_correct BETWEEN 0 AND labelled),
            candidate_correct        bigint NOT NULL CONSTRAINT candidate_correct_within_labelled CHECK (candidate_correct BETWEEN 0 AND labelled),
            reference_only_correct   bigint NOT NULL CONSTRAINT reference_only_correct_within_reference_correct CHECK (reference_only_correct BETWEEN 0 AND reference_correct),
            candidate_only_correct   bigint NOT NULL CONSTRAINT candidate_only_correct_within_candidate_correct CHECK (candidate_only_correct BETWEEN 0 AND candidate_correct),
            reference_latency_us_sum bigint NOT NULL CHECK (reference_latency_us_sum >= 0),
            candidate_latency_us_sum bigint NOT NULL CHECK (candidate_latency_us_sum >= 0),
            shadow_drops             bigint NOT NULL CHECK (shadow_drops >= 0),
            kernel_path              text NOT NULL,
            ingested_at              timestamptz NOT NULL,
            reference_memory_bytes   bigint CHECK (reference_memory_bytes >= 0),
            candidate_memory_bytes   bigint CHECK (candidate_memory_bytes >= 0),
            floor_samples            bigint NOT NULL CHECK (floor_samples >= 0),
            floor_agreements         bigint NOT NULL CONSTRAINT floor_agreements_within_floor_samples CHECK (floor_agreements BETWEEN 0 AND floor_samples),
            margin_flips             bigint NOT NULL CHECK (margin_flips >= 0),
            top5_shared_classes      bigint NOT NULL CHECK (top5_shared_classes >= 0),
            neighbour_samples        bigint NOT NULL CHECK (neighbour_samples >= 0),
            neighbour_agreements     bigint NOT NULL CONSTRAINT neighbour_agreements_within_neighbour_samples CHECK (neighbour_agreements BETWEEN 0 AND neighbour_samples),
            sketches                 text,
            device_class             text,
            UNIQUE (assignment_id, sequence, agent_id)
        );
        CREATE INDEX windows_by_assignment_in_order ON windows(assignment_id, ingest_order);

        CREATE TABLE window_classes (
            ingest_order         bigint NOT NULL REFERENCES windows(ingest_order),
            class                bigint NOT NULL CHECK (class >= 0),
            samples              bigint NOT NULL CHECK (samples >= 0),
            agreements           bigint NOT NULL CONSTRAINT agreements_within_samples CHECK (agreements BETWEEN 0 AND samples),
            both_right           bigint NOT NULL CHECK (both_right >= 0),
            reference_only_right bigint NOT NULL CHECK (reference_only_right >= 0),
            candidate_only_right bigint NOT NULL CHECK (candidate_only_right >= 0),
            both_wrong           bigint NOT NULL CHECK (both_wrong >= 0),
            PRIMARY KEY (ingest_order, class)
        );

        CREATE TABLE decisions (
            id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            rollout_id      text NOT NULL REFERENCES rollouts(id),
            decided_at      timestamptz NOT NULL,
            outcome         text NOT NULL CHECK (outcome IN ('ship', 'needs-qat', 'stay-fp16', 'collecting')),
            metric          text NOT NULL,
            n               bigint NOT NULL,
            statistic       double precision NOT NULL,
            lower_bound     double precision NOT NULL,
            upper_bound     double precision NOT NULL,
            confidence      double precision NOT NULL,
            policy_version  text NOT NULL,
            stage           bigint,
            reason          text,
            ship_below      double precision,
            stay_fp16_above double precision,
            slices          jsonb,
            bound_method    text CHECK (bound_method IN ('betting', 'beta-binomial'))
        );
        CREATE INDEX decisions_by_rollout ON decisions(rollout_id, id);

        CREATE TABLE rollout_plans (
            rollout_id        text NOT NULL PRIMARY KEY REFERENCES rollouts(id),
            target            jsonb NOT NULL,
            stages            jsonb NOT NULL,
            stage             bigint NOT NULL CHECK (stage >= 0),
            state             text NOT NULL CHECK (state IN
                                  ('created', 'running', 'paused', 'held', 'promoted', 'rolled-back', 'aborted')),
            window_max_age_ms bigint NOT NULL CHECK (window_max_age_ms >= 1),
            created_by        text NOT NULL
        );

        CREATE TABLE stage_members (
            rollout_id  text NOT NULL REFERENCES rollouts(id),
            agent_id    text NOT NULL REFERENCES agents(id),
            stage       bigint NOT NULL CHECK (stage >= 0),
            enrolled_at timestamptz NOT NULL,
            PRIMARY KEY (rollout_id, agent_id)
        );
        CREATE INDEX stage_members_by_agent ON stage_members(agent_id);

        CREATE TABLE rollout_events (
            id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            rollout_id text NOT NULL REFERENCES rollouts(id),
            at         timestamptz NOT NULL,
            actor      text NOT NULL,
            action     text NOT NULL,
            stage      bigint,
            reason     text NOT NULL
        );
        CREATE INDEX rollout_events_by_rollout ON rollout_events(rollout_id, id);

        CREATE TABLE serving_changes (
            id               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            agent_id         text NOT NULL REFERENCES agents(id),
            assignment_id    text NOT NULL REFERENCES assignments(id),
            at               timestamptz NOT NULL,
            mode             text NOT NULL CHECK (mode IN ('shadow', 'promoted', 'rolled-back')),
            primary_sha256   text NOT NULL,
            switch_micros    bigint NOT NULL CHECK (switch_micros >= 0),
            loaded_from_disk boolean NOT NULL
        );
        CREATE INDEX serving_changes_by_assignment ON serving_changes(assignment_id, id);

        CREATE TABLE stage_totals (
            rollout_id               text NOT NULL REFERENCES rollouts(id),
            stage                    bigint NOT NULL CHECK (stage >= 0),
            through_ingest_order     bigint NOT NULL CHECK (through_ingest_order >= 0),
            \(decisionCounts),
            reference_latency_us_sum bigint NOT NULL CHECK (reference_latency_us_sum >= 0),
            candidate_latency_us_sum bigint NOT NULL CHECK (candidate_latency_us_sum >= 0),
            reference_memory_bytes   bigint CHECK (reference_memory_bytes >= 0),
            candidate_memory_bytes   bigint CHECK (candidate_memory_bytes >= 0),
            margin_flips             bigint NOT NULL CHECK (margin_flips >= 0),
            top5_shared_classes      bigint NOT NULL CHECK (top5_shared_classes >= 0),
            neighbour_samples        bigint NOT NULL CHECK (neighbour_samples >= 0),
            neighbour_agreements     bigint NOT NULL CONSTRAINT neighbour_agreements_within_neighbour_samples CHECK (neighbour_agreements BETWEEN 0 AND neighbour_samples),
            sketches                 text,
            bets                     text NOT NULL DEFAULT '',
            PRIMARY KEY (rollout_id, stage)
        );

        CREATE TABLE slice_totals (
            rollout_id text NOT NULL REFERENCES rollouts(id),
            stage      bigint NOT NULL CHECK (stage >= 0),
            dimension  text NOT NULL CHECK (dimension IN ('class', 'device-class', 'kernel-path')),
            value      text NOT NULL,
            \(decisionCounts),
            bets       text NOT NULL DEFAULT '',
            PRIMARY KEY (rollout_id, stage, dimension, value)
        );

        CREATE TABLE agent_events (
            id       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            agent_id text NOT NULL,
            at       timestamptz NOT NULL,
            action   text NOT NULL CHECK (action IN ('replaced', 'replacement-refused')),
            reason   text NOT NULL
        );
        CREATE INDEX agent_events_by_agent ON agent_events(agent_id, id);

        CREATE TABLE assignment_versions (
            version       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            agent_id      text NOT NULL,
            assignment_id text NOT NULL REFERENCES assignments(id),
            mode          text NOT NULL CHECK (mode IN ('shadow', 'promoted', 'rolled-back')),
            issued_at     timestamptz NOT NULL,
            UNIQUE (agent_id, assignment_id, mode)
        );

        CREATE VIEW rollout_evidence AS
        SELECT
            r.id                                                                                AS rollout_id,
            r.model_name                                                                        AS model_name,
            r.status                                                                            AS status,
            r.outcome                                                                           AS outcome,
            COUNT(w.sequence)                                                                   AS windows,
            COUNT(DISTINCT w.agent_id)                                                          AS agents,
            COALESCE(SUM(w.count), 0)::bigint                                                   AS samples,
            COALESCE(SUM(w.count - w.top1_agreements), 0)::bigint                               AS disagreements,
            SUM(w.count - w.top1_agreements)::double precision / NULLIF(SUM(w.count), 0)        AS disagreement_rate,
            COALESCE(SUM(w.labelled), 0)::bigint                                                AS labelled,
            SUM(w.reference_correct)::double precision / NULLIF(SUM(w.labelled), 0)             AS reference_accuracy,
            SUM(w.candidate_correct)::double precision / NULLIF(SUM(w.labelled), 0)             AS candidate_accuracy,
            SUM(w.kl_divergence_sum) / NULLIF(SUM(w.count), 0)                                  AS mean_kl,
            MAX(w.max_abs_diff)                                                                 AS max_abs_diff,
            SUM(w.reference_latency_us_sum)::double precision / NULLIF(SUM(w.count), 0)         AS reference_latency_us_mean,
            SUM(w.candidate_latency_us_sum)::double precision / NULLIF(SUM(w.count), 0)         AS candidate_latency_us_mean,
            COALESCE(SUM(w.shadow_drops), 0)::bigint                                            AS shadow_drops
        FROM rollouts r
        LEFT JOIN assignments a ON a.rollout_id = r.id
        LEFT JOIN windows w ON w.assignment_id = a.id
        GROUP BY r.id;

        \(LedgerSchema.rolloutSummaryView);

        CREATE VIEW stage_evidence AS
        SELECT
            a.rollout_id                                                                 AS rollout_id,
            a.stage                                                                      AS stage,
            w.agent_id                                                                   AS agent_id,
            g.labels                                                                     AS labels,
            w.kernel_path                                                                AS kernel_path,
            COUNT(*)                                                                     AS windows,
            SUM(w.count)::bigint                                                         AS samples,
            SUM(w.count - w.top1_agreements)::double precision / NULLIF(SUM(w.count), 0) AS disagreement_rate,
            SUM(w.labelled)::bigint                                                      AS labelled,
            SUM(w.reference_correct)::double precision / NULLIF(SUM(w.labelled), 0)      AS reference_accuracy,
            SUM(w.candidate_correct)::double precision / NULLIF(SUM(w.labelled), 0)      AS candidate_accuracy,
            SUM(w.kl_divergence_sum) / NULLIF(SUM(w.count), 0)                           AS mean_kl,
            MAX(w.ended_at_ms)                                                           AS last_window_ms
        FROM windows w
        JOIN assignments a ON a.id = w.assignment_id
        LEFT JOIN agents g ON g.id = w.agent_id
        GROUP BY a.rollout_id, a.stage, w.agent_id, g.labels, w.kernel_path;

        CREATE VIEW agent_health AS
        SELECT
            g.id                                                                                 AS agent_id,
            g.labels                                                                             AS labels,
            g.kernel_path                                                                        AS kernel_path,
            g.agent_version                                                                      AS agent_version,
            g.first_seen_at                                                                      AS first_seen_at,
            g.last_seen_at                                                                       AS last_seen_at,
            COUNT(w.sequence)                                                                    AS windows,
            COALESCE(SUM(w.count), 0)::bigint                                                    AS samples,
            COALESCE(SUM(w.shadow_drops), 0)::bigint                                             AS shadow_drops,
            SUM(w.shadow_drops)::double precision / NULLIF(SUM(w.count) + SUM(w.shadow_drops), 0) AS shadow_drop_rate,
            MAX(w.ended_at_ms)                                                                   AS last_window_ms
        FROM agents g
        LEFT JOIN windows w ON w.agent_id = g.id
        GROUP BY g.id;

        \(LedgerSchema.decisionHistoryView);
        """
}
