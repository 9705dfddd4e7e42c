import GRDB
import ShadowEval

/// A stage's evidence rebuilt by appending its stored windows one by one in ingest order, as ingest
/// appended them: the same counts as the SQL re-sum, and the betting processes, which only a replay
/// in order can recompute. It starts from the stage's rollup checkpoint, if it has one: rolled-up
/// rows have lost their windows' order, and the checkpoint holds the evidence through them.
/// `quantfleet ledger verify` holds the running totals against it, migration v10 builds the
/// processes of existing ledgers with it, and a rollup makes its checkpoints with it.
enum WindowReplay {
    /// The stage's evidence through its last window.
    static func evidence(_ db: any LedgerSession, stage: StageKey) throws -> RunningTotals {
        let checkpoint = try RollupCheckpoints.read(db, stage)
        let range = " AND w.ingest_order > ?"
        let arguments: SQLArguments = [stage.rolloutID, stage.stage, checkpoint?.through ?? 0]
        var classesByWindow: [Int64: [Row]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT c.* \(WindowResum.stageClassRows)\(range)", arguments: arguments) {
            classesByWindow[row["ingest_order"], default: []].append(row)
        }
        var totals = checkpoint?.evidence ?? RunningTotals()
        for row in try Row.fetchAll(db, sql: "SELECT w.* \(WindowResum.stageWindows)\(range) ORDER BY w.ingest_order", arguments: arguments) {
            append(row, classes: classesByWindow[row["ingest_order"]] ?? [], to: &totals)
        }
        return RunningTotals(overall: totals.overall, slices: totals.slices)
    }

    /// Appends one stored window (a `windows` row and its `window_classes` rows) to `totals` as
    /// ingest appended it. A rollup makes its checkpoints with it from the rows it already read.
    static func append(_ window: Row, classes: [Row], to totals: inout RunningTotals) {
        let summary = WindowSummary(
            count: window["count"], top1Agreements: window["top1_agreements"], labelled: window["labelled"],
            referenceCorrect: window["reference_correct"], candidateCorrect: window["candidate_correct"],
            referenceOnlyCorrect: window["reference_only_correct"], candidateOnlyCorrect: window["candidate_only_correct"])
        var whole = EvidenceTotals(
            window: summary, floor: AgreementCounts(samples: window["floor_samples"], agreements: window["floor_agreements"]))
        whole.windows = window["windows_merged"]  // 1, or 0 for a late-label delta (rolled-up rows lie before the checkpoint)
        // Each class is a slice of its own, so the class rows' order does not matter.
        let classes = classes.map { row in
            (index: row["class"] as Int, agreement: AgreementCounts(samples: row["samples"], agreements: row["agreements"]),
             labels: PairedOutcomes(
                bothRight: row["both_right"], onlyReferenceRight: row["reference_only_right"],
                onlyCandidateRight: row["candidate_only_right"], bothWrong: row["both_wrong"]))
        }
        totals.append(RunningTotals.window(
            whole: whole, kernelPath: window["kernel_path"], deviceClass: window["device_class"], classes: classes))
    }
}
