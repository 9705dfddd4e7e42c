import Foundation
import GRDB
import ShadowEval

/// A stage's totals summed again from its stored windows in SQL, a rolled-up row counting as the
/// windows it merged (`windows_merged`). Decisions never use it (they read
/// the running totals); it is the check that the running totals equal their windows (tests and
/// `quantfleet ledger verify`), and migration v5 back-fills existing ledgers with it.
enum WindowResum {
    static func totals(_ db: any LedgerSession, stage: StageKey) throws -> RunningTotals {
        let arguments: SQLArguments = [stage.rolloutID, stage.stage]
        let overall = try Row.fetchOne(db, sql: "SELECT \(windowTotals) \(stageWindows)", arguments: arguments)!  // an aggregate without GROUP BY always yields one row
        var totals = RunningTotals(overall: counts(overall), cost: cost(overall), measures: try measures(db, stage: stage))
        let byKernelPath = try Row.fetchAll(
            db, sql: "SELECT w.kernel_path AS slice, \(windowTotals) \(stageWindows) GROUP BY w.kernel_path", arguments: arguments)
        let byDeviceClass = try Row.fetchAll(db, sql: """
            SELECT w.device_class AS slice, \(windowTotals) \(stageWindows) AND w.device_class IS NOT NULL GROUP BY w.device_class
            """, arguments: arguments)
        let byClass = try Row.fetchAll(db, sql: """
            SELECT CAST(c.class AS TEXT) AS slice,
                   SUM(c.windows_merged) AS windows,
                   SUM(c.samples) AS samples,
                   SUM(c.samples - c.agreements) AS disagreements,
                   SUM(c.both_right + c.reference_only_right + c.candidate_only_right + c.both_wrong) AS labelled,
                   SUM(c.both_right + c.reference_only_right) AS reference_correct,
                   SUM(c.both_right + c.candidate_only_right) AS candidate_correct,
                   SUM(c.reference_only_right) AS reference_only_correct,
                   SUM(c.candidate_only_right) AS candidate_only_correct,
                   0 AS floor_samples, 0 AS floor_disagreements
            \(stageClassRows) GROUP BY c.class
            """, arguments: arguments)
        for (dimension, rows) in [(SliceDimension.kernelPath, byKernelPath), (.deviceClass, byDeviceClass), (.class, byClass)] {
            for row in rows { totals.slices[SliceKey(dimension, row["slice"])] = counts(row) }
        }
        return totals
    }

    /// The stage's last window in ingest order (0 without windows), and how many have no ingest order.
    static func ingestOrder(_ db: any LedgerSession, stage: StageKey) throws -> (last: Int64, unnumbered: Int) {
        let row = try Row.fetchOne(
            db, sql: "SELECT COALESCE(MAX(w.ingest_order), 0) AS last, COUNT(*) - COUNT(w.ingest_order) AS unnumbered \(stageWindows)",
            arguments: [stage.rolloutID, stage.stage])!
        return (row["last"], row["unnumbered"])
    }

    /// A stage's windows (`w`), with `[rollout id, stage]` as arguments; the replay reads them too.
    static let stageWindows = "FROM windows w JOIN assignments a ON a.id = w.assignment_id WHERE a.rollout_id = ? AND a.stage = ?"
    /// A stage's class rows (`c`), reached through its windows (`w`), with the same arguments.
    static let stageClassRows = """
        FROM windows w JOIN assignments a ON a.id = w.assignment_id
        JOIN window_classes c USING (ingest_order) WHERE a.rollout_id = ? AND a.stage = ?
        """

    private static let windowTotals = """
        COALESCE(SUM(w.windows_merged), 0) AS windows,
        COALESCE(SUM(w.count), 0) AS samples,
        COALESCE(SUM(w.count - w.top1_agreements), 0) AS disagreements,
        COALESCE(SUM(w.labelled), 0) AS labelled,
        COALESCE(SUM(w.reference_correct), 0) AS reference_correct,
        COALESCE(SUM(w.candidate_correct), 0) AS candidate_correct,
        COALESCE(SUM(w.reference_only_correct), 0) AS reference_only_correct,
        COALESCE(SUM(w.candidate_only_correct), 0) AS candidate_only_correct,
        COALESCE(SUM(w.floor_samples), 0) AS floor_samples,
        COALESCE(SUM(w.floor_samples - w.floor_agreements), 0) AS floor_disagreements,
        COALESCE(SUM(w.reference_latency_us_sum), 0) AS reference_latency_us_sum,
        COALESCE(SUM(w.candidate_latency_us_sum), 0) AS candidate_latency_us_sum,
        MAX(w.reference_memory_bytes) AS reference_memory_bytes,
        MAX(w.candidate_memory_bytes) AS candidate_memory_bytes
        """

    private static func counts(_ row: Row) -> EvidenceTotals {
        EvidenceTotals(
            windows: row["windows"], samples: row["samples"], disagreements: row["disagreements"],
            labelled: row["labelled"], referenceCorrect: row["reference_correct"],
            candidateCorrect: row["candidate_correct"], referenceOnlyCorrect: row["reference_only_correct"],
            candidateOnlyCorrect: row["candidate_only_correct"], floorSamples: row["floor_samples"],
            floorDisagreements: row["floor_disagreements"])
    }

    private static func cost(_ row: Row) -> CostTotals {
        CostTotals(
            referenceLatencyMicrosSum: row["reference_latency_us_sum"], candidateLatencyMicrosSum: row["candidate_latency_us_sum"],
            referenceMemoryBytes: row["reference_memory_bytes"], candidateMemoryBytes: row["candidate_memory_bytes"])
    }

    /// Every window's measures merged.
    private static func measures(_ db: any LedgerSession, stage: StageKey) throws -> WindowMeasures {
        var merged = WindowMeasures()
        let rows = try Row.fetchAll(db, sql: """
            SELECT w.margin_flips, w.top5_shared_classes, w.neighbour_samples, w.neighbour_agreements, w.sketches \(stageWindows)
            """, arguments: [stage.rolloutID, stage.stage])
        for row in rows { merged.merge(try measures(of: row)) }
        return merged
    }

    /// One stored window's measures (a rolled-up row's are its windows' merged).
    static func measures(of row: Row) throws -> WindowMeasures {
        let text: String? = row["sketches"]
        return WindowMeasures(
            marginFlips: row["margin_flips"], topFiveSharedClasses: row["top5_shared_classes"],
            neighbours: AgreementCounts(samples: row["neighbour_samples"], agreements: row["neighbour_agreements"]),
            sketches: try text.map { try SketchCoding.decode($0, column: "windows.sketches") })
    }
}
