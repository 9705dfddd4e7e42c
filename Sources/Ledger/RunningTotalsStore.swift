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
/// Windows are appended strictly in ingest order (`Fold.append` checks it) and each stage row says
/// which window it runs through. The betting processes (migration v8) depend on that order: each
/// window is bet on at a size its stage's or slice's earlier windows chose. So a batch starts from
/// the stored rows, appends its windows one by one, and writes the rows back; replaying a stage's
/// windows `ORDER BY ingest_order` from nothing (`WindowReplay`) gives the same rows.
enum RunningTotalsStore {
    /// One stage's totals as ingest keeps them: the stored rows with windows appended in ingest
    /// order. A slice's row is read the first time a window touches it; `write` writes the stage's
    /// row and the slices touched since the last write.
    struct Fold: Sendable {
        let stage: StageKey
        private(set) var totals: RunningTotals
        private(set) var throughIngestOrder: Int64
        private var touchedSlices: Set<SliceKey> = []

        init(stage: StageKey, _ db: any LedgerSession) throws {
            self.stage = stage
            let stored = try RunningTotalsStore.stageRow(db, stage)
            totals = stored?.totals ?? RunningTotals()
            throughIngestOrder = stored?.throughIngestOrder ?? 0
        }

        /// A stage's totals rebuilt from its windows, every slice to be written.
        init(rebuilt totals: RunningTotals, stage: StageKey, throughIngestOrder: Int64) {
            self.stage = stage
            self.totals = totals
            self.throughIngestOrder = throughIngestOrder
            touchedSlices = Set(totals.slices.keys)
        }

        mutating func append(_ window: RunningTotals, ingestOrder: Int64, _ db: any LedgerSession) throws {
            precondition(ingestOrder > throughIngestOrder, "a stage's windows are appended in ingest order")
            for key in window.slices.keys {
                if totals.slices[key] == nil { totals.slices[key] = try RunningTotalsStore.sliceRow(db, stage, key) }
                touchedSlices.insert(key)
            }
            totals.append(window)
            throughIngestOrder = ingestOrder
        }

        /// Writes the stage's row and the rows of the slices touched since the last write.
        mutating func write(_ db: any LedgerSession) throws {
            let (whole, cost, measures) = (totals.overall, totals.cost, totals.measures)
            try db.execute(
                sql: RunningTotalsStore.writeStage,
                arguments: [stage.rolloutID, stage.stage, throughIngestOrder] + RunningTotalsStore.countArguments(whole) + [
                    cost.referenceLatencyMicrosSum, cost.candidateLatencyMicrosSum, cost.referenceMemoryBytes,
                    cost.candidateMemoryBytes, measures.marginFlips, measures.topFiveSharedClasses, measures.neighbours.samples,
                    measures.neighbours.agreements, try measures.sketches.map(SketchCoding.encode),
                ])
            for key in touchedSlices {
                try db.execute(
                    sql: RunningTotalsStore.writeSlice,
                    arguments: [stage.rolloutID, stage.stage, key.dimension.rawValue, key.value] + RunningTotalsStore.countArguments(totals.slices[key]!))
            }
            touchedSlices = []
        }
    }

    /// The totals of one stage or (`stage` nil) of every stage of the rollout merged.
    static func totals(_ db: any LedgerSession, rolloutID: String, stage: Int?) throws -> RunningTotals {
        var merged = RunningTotals()
        for entry in try stages(db, rolloutID: rolloutID) where stage == nil || entry.stage == stage {
            merged.merge(entry.totals)
        }
        return merged
    }

    /// Every stage of the rollout that has windows, first stage first, with the last window folded in.
    static func stages(_ db: any LedgerSession, rolloutID: String) throws -> [(stage: Int, totals: RunningTotals, throughIngestOrder: Int64)] {
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
                totals.slices[SliceKey(dimension, row["value"])] = try counts(row, table: "slice_totals")
            }
            return (number, totals, through)
        }
    }

    /// Migration v10: the totals of a ledger's existing windows, rebuilt. Counts, cost and measures are
    /// the SQL re-sum of each stage; the evidence with its betting processes (v8) is the replay of its
    /// windows in ingest order, whose counts are the same. (Migration v5, which created the tables,
    /// once back-filled them without betting processes; rebuilding serves ledgers from before and
    /// after it alike.)
    static func rebuild(_ db: any LedgerSession) throws {
        try db.execute(sql: "DELETE FROM slice_totals")
        try db.execute(sql: "DELETE FROM stage_totals")
        let stages = try Row.fetchAll(db, sql: """
            SELECT a.rollout_id, a.stage, MAX(w.ingest_order) AS through
            FROM windows w JOIN assignments a ON a.id = w.assignment_id GROUP BY a.rollout_id, a.stage
            ORDER BY a.rollout_id, a.stage
            """)
        for row in stages {
            let stage = StageKey(rolloutID: row["rollout_id"], stage: row["stage"])
            var totals = try WindowResum.totals(db, stage: stage)
            let replayed = try WindowReplay.evidence(db, stage: stage)
            (totals.overall, totals.slices) = (replayed.overall, replayed.slices)
            var fold = Fold(rebuilt: totals, stage: stage, throughIngestOrder: row["through"])
            try fold.write(db)
        }
    }

    /// One slice's stored totals; empty when the slice has none yet.
    private static func sliceRow(_ db: any LedgerSession, _ stage: StageKey, _ key: SliceKey) throws -> EvidenceTotals {
        let row = try Row.fetchOne(
            db, sql: "SELECT * FROM slice_totals WHERE rollout_id = ? AND stage = ? AND dimension = ? AND value = ?",
            arguments: [stage.rolloutID, stage.stage, key.dimension.rawValue, key.value])
        return try row.map { try counts($0, table: "slice_totals") } ?? EvidenceTotals()
    }

    private static func stageRow(_ db: any LedgerSession, _ stage: StageKey) throws -> (totals: RunningTotals, throughIngestOrder: Int64)? {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT * FROM stage_totals WHERE rollout_id = ? AND stage = ?",
            arguments: [stage.rolloutID, stage.stage])
        else { return nil }
        let sketches: String? = row["sketches"]
        let totals = RunningTotals(
            overall: try counts(row, table: "stage_totals"),
            cost: CostTotals(
                referenceLatencyMicrosSum: row["reference_latency_us_sum"], candidateLatencyMicrosSum: row["candidate_latency_us_sum"],
                referenceMemoryBytes: row["reference_memory_bytes"], candidateMemoryBytes: row["candidate_memory_bytes"]),
            measures: WindowMeasures(
                marginFlips: row["margin_flips"], topFiveSharedClasses: row["top5_shared_classes"],
                neighbours: AgreementCounts(samples: row["neighbour_samples"], agreements: row["neighbour_agreements"]),
                sketches: try sketches.map { try SketchCoding.decode($0, column: "stage_totals.sketches") }))
        return (totals, row["through_ingest_order"])
    }

    /// The decision counts, in the column order of both tables (and of `rollup_checkpoints`).
    static let countNames = [
        "windows", "samples", "disagreements", "labelled", "reference_correct", "candidate_correct",
        "reference_only_correct", "candidate_only_correct", "floor_samples", "floor_disagreements", "bets",
    ]

    private static let writeStage = upsert("stage_totals", keys: ["rollout_id", "stage"], values: ["through_ingest_order"] + countNames + [
        "reference_latency_us_sum", "candidate_latency_us_sum", "reference_memory_bytes", "candidate_memory_bytes",
        "margin_flips", "top5_shared_classes", "neighbour_samples", "neighbour_agreements", "sketches",
    ])
    private static let writeSlice = upsert("slice_totals", keys: ["rollout_id", "stage", "dimension", "value"], values: countNames)

    /// A row written whole over the one with the same key, in SQL both engines run.
    private static func upsert(_ table: String, keys: [String], values: [String]) -> String {
        let columns = keys + values
        return """
            \(insertStatement(into: table, columns: columns))
            ON CONFLICT (\(keys.joined(separator: ", "))) DO UPDATE SET \(values.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """
    }

    static func countArguments(_ totals: EvidenceTotals) -> SQLArguments {
        [
            totals.windows, totals.samples, totals.disagreements, totals.labelled, totals.referenceCorrect,
            totals.candidateCorrect, totals.referenceOnlyCorrect, totals.candidateOnlyCorrect, totals.floorSamples,
            totals.floorDisagreements, BetsCoding.encode(totals.bets),
        ]
    }

    static func counts(_ row: Row, table: String) throws -> EvidenceTotals {
        EvidenceTotals(
            windows: row["windows"], samples: row["samples"], disagreements: row["disagreements"], labelled: row["labelled"],
            referenceCorrect: row["reference_correct"], candidateCorrect: row["candidate_correct"],
            referenceOnlyCorrect: row["reference_only_correct"], candidateOnlyCorrect: row["candidate_only_correct"],
            floorSamples: row["floor_samples"], floorDisagreements: row["floor_disagreements"],
            bets: try BetsCoding.decode(row["bets"] ?? "", column: "\(table).bets"))
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
