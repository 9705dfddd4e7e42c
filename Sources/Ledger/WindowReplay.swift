import GRDB
import ShadowEval

/// A stage's evidence rebuilt by appending its stored windows one by one in ingest order, as ingest
/// appended them: the same counts as the SQL re-sum, and the betting processes, which only a replay
/// in order can recompute. It starts from the stage's rollup checkpoint, if it has one: rolled-up
/// rows have lost their windows' order, and the checkpoint holds the evidence through them.
/// `quantfleet ledger verify` holds the running totals against it, migration v10 builds the
/// processes of existing ledgers with it, and a rollup makes its checkpoints with it.
enum WindowReplay {
    /// The evidence through window `through` in ingest order (nil: the stage's last).
    static func evidence(_ db: any LedgerSession, stage: StageKey, through: Int64? = nil) throws -> RunningTotals {
        let checkpoint = try RollupCheckpoints.read(db, stage)
        let range = " AND w.ingest_order > ? AND w.ingest_order <= ?"
        let arguments: SQLArguments = [stage.rolloutID, stage.stage, checkpoint?.through ?? 0, through ?? Int64.max]
        var classesByWindow: [Int64: [(index: Int, agreement: AgreementCounts, labels: PairedOutcomes)]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT c.* \(WindowResum.stageClassRows)\(range) ORDER BY c.class", arguments: arguments) {
            let labels = PairedOutcomes(
                bothRight: row["both_right"], onlyReferenceRight: row["reference_only_right"],
                onlyCandidateRight: row["candidate_only_right"], bothWrong: row["both_wrong"])
            classesByWindow[row["ingest_order"], default: []].append(
                (row["class"], AgreementCounts(samples: row["samples"], agreements: row["agreements"]), labels))
        }
        var totals = checkpoint?.evidence ?? RunningTotals()
        for row in try Row.fetchAll(db, sql: "SELECT w.* \(WindowResum.stageWindows)\(range) ORDER BY w.ingest_order", arguments: arguments) {
            let summary = WindowSummary(
                count: row["count"], top1Agreements: row["top1_agreements"], labelled: row["labelled"],
                referenceCorrect: row["reference_correct"], candidateCorrect: row["candidate_correct"],
                referenceOnlyCorrect: row["reference_only_correct"], candidateOnlyCorrect: row["candidate_only_correct"])
            var whole = EvidenceTotals(
                window: summary, floor: AgreementCounts(samples: row["floor_samples"], agreements: row["floor_agreements"]))
            whole.windows = row["windows_merged"]  // 1, or 0 for a late-label delta (rolled-up rows lie before the checkpoint)
            totals.append(RunningTotals.window(
                whole: whole, kernelPath: row["kernel_path"], deviceClass: row["device_class"],
                classes: classesByWindow[row["ingest_order"]] ?? []))
        }
        return RunningTotals(overall: totals.overall, slices: totals.slices)
    }
}
