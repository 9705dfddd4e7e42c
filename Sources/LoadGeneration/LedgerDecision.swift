import Ledger
import ShadowEval

/// The decision as the coordinator's ledger recorded it, read-only: the wire shows agents only a
/// promotion or a rollback of a staged rollout, so a start-up rollout's decision (and any needs-qat)
/// is read here, with how long after its deciding window was stored the decision row was written.
public struct LedgerDecision: Sendable {
    public var outcome: Outcome
    public var samples: Int
    /// From the commit of the window that brought the rollout to `samples` to the decision row.
    public var millisAfterDecidingWindow: Double?

    /// The first final decision of the rollout that holds `assignmentIDs`, or nil if there is none yet.
    public static func read(ledger path: String, assignmentIDs: Set<String>) throws -> LedgerDecision? {
        let ids = assignmentIDs.filter { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }
        guard !ids.isEmpty else { return nil }
        let reader = try Ledger.openReadOnly(path: path)
        let list = ids.sorted().map { "'\($0)'" }.joined(separator: ", ")
        let result = try reader.query("""
            WITH decided AS (
                SELECT rollout_id, outcome, n, decided_at FROM decisions
                WHERE outcome != 'collecting' AND rollout_id IN (SELECT rollout_id FROM assignments WHERE id IN (\(list)))
                ORDER BY id LIMIT 1),
            stored AS (
                SELECT w.ingested_at, SUM(w.count) OVER (ORDER BY w.ingest_order) AS samples
                FROM windows w JOIN assignments a ON a.id = w.assignment_id
                WHERE a.rollout_id = (SELECT rollout_id FROM decided))
            SELECT decided.outcome, decided.n,
                (julianday(decided.decided_at) - julianday((SELECT MIN(ingested_at) FROM stored WHERE samples >= decided.n))) * 86400000
            FROM decided
            """)
        guard let row = result.rows.first, let outcome = Outcome(rawValue: row[0]) else { return nil }
        return LedgerDecision(outcome: outcome, samples: Int(row[1]) ?? 0, millisAfterDecidingWindow: Double(row[2]))
    }
}
