import GRDB
import ShadowEval

/// Each stage's evidence as of its last rolled-up window (`rollup_checkpoints`, migration v14):
/// the whole and every slice, with their betting processes. A rolled-up row merges windows, so the
/// order they were bet on in is gone; a replay starts here instead and appends the windows after it
/// (`WindowReplay`), which gives the running totals again.
enum RollupCheckpoints {
    /// The stage's checkpoint, or nil before its first rollup. Cost and measures are not kept:
    /// they merge in any order, so the SQL re-sum covers them.
    static func read(_ db: any LedgerSession, _ stage: StageKey) throws -> (evidence: RunningTotals, through: Int64)? {
        var evidence = RunningTotals()
        var through: Int64?
        for row in try Row.fetchAll(
            db, sql: "SELECT * FROM rollup_checkpoints WHERE rollout_id = ? AND stage = ?", arguments: [stage.rolloutID, stage.stage])
        {
            let dimension: String = row["dimension"]
            let totals = try RunningTotalsStore.counts(row, table: "rollup_checkpoints")
            through = row["through_ingest_order"]
            if dimension == wholeDimension {
                evidence.overall = totals
            } else if let slice = SliceDimension(rawValue: dimension) {
                evidence.slices[SliceKey(slice, row["value"])] = totals
            } else {
                throw LedgerError.unexpectedValue(column: "rollup_checkpoints.dimension", value: dimension)
            }
        }
        return through.map { (evidence, $0) }
    }

    /// Replaces the stage's checkpoint with `evidence` as of window `through` in ingest order.
    static func write(_ db: any LedgerSession, _ stage: StageKey, evidence: RunningTotals, through: Int64) throws {
        try db.execute(sql: "DELETE FROM rollup_checkpoints WHERE rollout_id = ? AND stage = ?", arguments: [stage.rolloutID, stage.stage])
        let parts = [(wholeDimension, "", evidence.overall)] + evidence.slices.map { ($0.key.dimension.rawValue, $0.key.value, $0.value) }
        let columns = ["rollout_id", "stage", "dimension", "value", "through_ingest_order"] + RunningTotalsStore.countNames
        let insert = insertStatement(into: "rollup_checkpoints", columns: columns)
        for (dimension, value, totals) in parts {
            try db.execute(sql: insert, arguments: [stage.rolloutID, stage.stage, dimension, value, through] + RunningTotalsStore.countArguments(totals))
        }
    }

    /// The windows of every stage up to this ingest order are rolled up (0: none are).
    static func rolledThrough(_ db: any LedgerSession) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(through_ingest_order), 0) FROM rollup_checkpoints") ?? 0
    }

    private static let wholeDimension = "whole"
}
