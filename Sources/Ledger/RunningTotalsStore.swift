import Foundation
import GRDB
import ShadowEval

/// One stage of one rollout: the unit running totals are kept per.
struct StageKey: Hashable, Sendable {
    var rolloutID: String
    var stage: Int
}

/// The running totals (migration v5): `stage_totals` holds a stage's whole, cost and measures,
/// `slice_totals` its slices. Windows are added in the transaction that stores them; a decision
/// reads a stage's few rows, never its windows.
///
/// Windows are folded strictly in ingest order (`Fold.add` and `add` check it) and each stage row
/// says which window it runs through, so state that depends on the order of the evidence (issue 28's
/// betting wealth, a bet held constant within a window and chosen from earlier windows only) belongs
/// in these rows and this fold, and can be recomputed by replaying a stage's windows
/// `ORDER BY ingest_order` (index `windows_by_assignment_in_order`).
enum RunningTotalsStore {
    /// Windows of one stage folded in memory during a batch, in ingest order.
    struct Fold {
        var totals = RunningTotals()
        var throughIngestOrder: Int64 = 0

        mutating func add(_ window: RunningTotals, ingestOrder: Int64) {
            precondition(ingestOrder > throughIngestOrder, "windows are folded in ingest order")
            totals.merge(window)
            throughIngestOrder = ingestOrder
        }
    }

    /// Adds a fold to its stage's stored totals. The whole is read, merged and written back (the
    /// sketches merge in Swift); slices are added in SQL, so a batch touches only its own slices.
    static func add(_ fold: Fold, to stage: StageKey, _ db: Database) throws {
        let stored = try stageRow(db, stage)
        precondition(fold.throughIngestOrder > stored?.throughIngestOrder ?? 0, "a stage's totals only ever move forward in ingest order")
        var merged = stored?.totals ?? RunningTotals()
        merged.overall.merge(fold.totals.overall)
        merged.cost.merge(fold.totals.cost)
        merged.measures.merge(fold.totals.measures)
        let (whole, cost, measures) = (merged.overall, merged.cost, merged.measures)
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO stage_totals (
                    rollout_id, stage, through_ingest_order, \(countColumns), reference_latency_us_sum,
                    candidate_latency_us_sum, reference_memory_bytes, candidate_memory_bytes, margin_flips,
                    top5_shared_classes, neighbour_samples, neighbour_agreements, sketches)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [stage.rolloutID, stage.stage, fold.throughIngestOrder] + countArguments(whole) + [
                cost.referenceLatencyMicrosSum, cost.candidateLatencyMicrosSum, cost.referenceMemoryBytes,
                cost.candidateMemoryBytes, measures.marginFlips, measures.topFiveSharedClasses, measures.neighbours.samples,
                measures.neighbours.agreements, try measures.sketches.map(SketchCoding.encode),
            ])
        let addSlice = try db.cachedStatement(sql: """
            INSERT INTO slice_totals (rollout_id, stage, dimension, value, \(countColumns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (rollout_id, stage, dimension, value) DO UPDATE SET
            \(countNames.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
            """)
        for (key, slice) in fold.totals.slices {
            try addSlice.execute(arguments: [stage.rolloutID, stage.stage, key.dimension.rawValue, key.value] + countArguments(slice))
        }
    }

    /// The totals of one stage or (`stage` nil) of every stage of the rollout merged.
    static func totals(_ db: Database, rolloutID: String, stage: Int?) throws -> RunningTotals {
        var merged = RunningTotals()
        for entry in try stages(db, rolloutID: rolloutID) where stage == nil || entry.stage == stage {
            merged.merge(entry.totals)
        }
        return merged
    }

    /// Every stage of the rollout that has windows, first stage first, with the last window folded in.
    static func stages(_ db: Database, rolloutID: String) throws -> [(stage: Int, totals: RunningTotals, throughIngestOrder: Int64)] {
        let stageNumbers = try Int.fetchAll(
            db, sql: "SELECT stage FROM stage_totals WHERE rollout_id = ? ORDER BY stage", arguments: [rolloutID])
        return try stageNumbers.map { number in
            let key = StageKey(rolloutID: rolloutID, stage: number)
            var (totals, through) = try stageRow(db, key)!
            for row in try Row.fetchAll(
                db, sql: "SELECT * FROM slice_totals WHERE rollout_id = ? AND stage = ?", arguments: [rolloutID, number])
            {
                let dimensionText: String = row["dimension"]
                guard let dimension = SliceDimension(rawValue: dimensionText) else {
                    throw LedgerError.unexpectedValue(column: "slice_totals.dimension", value: dimensionText)
                }
                totals.slices[SliceKey(dimension, row["value"])] = counts(row)
            }
            return (number, totals, through)
        }
    }

    /// Migration v5: the totals of a ledger's existing windows, from the SQL re-sum of each stage.
    static func backfill(_ db: Database) throws {
        let stages = try Row.fetchAll(db, sql: """
            SELECT a.rollout_id, a.stage, MAX(w.ingest_order) AS through
            FROM windows w JOIN assignments a ON a.id = w.assignment_id GROUP BY a.id ORDER BY a.rollout_id, a.stage
            """)
        for row in stages {
            let key = StageKey(rolloutID: row["rollout_id"], stage: row["stage"])
            let fold = Fold(totals: try WindowResum.totals(db, stage: key), throughIngestOrder: row["through"])
            try add(fold, to: key, db)
        }
    }

    private static func stageRow(_ db: Database, _ stage: StageKey) throws -> (totals: RunningTotals, throughIngestOrder: Int64)? {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT * FROM stage_totals WHERE rollout_id = ? AND stage = ?", arguments: [stage.rolloutID, stage.stage])
        else { return nil }
        let sketches: String? = row["sketches"]
        let totals = RunningTotals(
            overall: counts(row),
            cost: CostTotals(
                referenceLatencyMicrosSum: row["reference_latency_us_sum"], candidateLatencyMicrosSum: row["candidate_latency_us_sum"],
                referenceMemoryBytes: row["reference_memory_bytes"], candidateMemoryBytes: row["candidate_memory_bytes"]),
            measures: WindowMeasures(
                marginFlips: row["margin_flips"], topFiveSharedClasses: row["top5_shared_classes"],
                neighbours: AgreementCounts(samples: row["neighbour_samples"], agreements: row["neighbour_agreements"]),
                sketches: try sketches.map { try SketchCoding.decode($0, column: "stage_totals.sketches") }))
        return (totals, row["through_ingest_order"])
    }

    /// The decision counts, in the column order of both tables.
    private static let countNames = [
        "windows", "samples", "disagreements", "labelled", "reference_correct", "candidate_correct",
        "reference_only_correct", "candidate_only_correct", "floor_samples", "floor_disagreements",
    ]
    private static let countColumns = countNames.joined(separator: ", ")

    private static func countArguments(_ totals: EvidenceTotals) -> StatementArguments {
        [
            totals.windows, totals.samples, totals.disagreements, totals.labelled, totals.referenceCorrect,
            totals.candidateCorrect, totals.referenceOnlyCorrect, totals.candidateOnlyCorrect, totals.floorSamples,
            totals.floorDisagreements,
        ]
    }

    private static func counts(_ row: Row) -> EvidenceTotals {
        EvidenceTotals(
            windows: row["windows"], samples: row["samples"], disagreements: row["disagreements"], labelled: row["labelled"],
            referenceCorrect: row["reference_correct"], candidateCorrect: row["candidate_correct"],
            referenceOnlyCorrect: row["reference_only_correct"], candidateOnlyCorrect: row["candidate_only_correct"],
            floorSamples: row["floor_samples"], floorDisagreements: row["floor_disagreements"])
    }
}

/// Quantile sketches as the ledger stores them: JSON text of a ShadowEval `WindowSketches`.
enum SketchCoding {
    static func encode(_ sketches: WindowSketches) throws -> String {
        String(decoding: try JSONEncoder().encode(sketches), as: UTF8.self)
    }

    static func decode(_ text: String, column: String) throws -> WindowSketches {
        try LabelCoding.decode(WindowSketches.self, from: text, column: column)
    }
}
