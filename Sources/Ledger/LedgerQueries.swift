import Foundation
import GRDB
import ShadowEval

/// Reads shared by the writer (`Ledger`) and the read-only `LedgerReader`.
enum LedgerQueries {
    static func rollouts(_ db: any LedgerSession) throws -> [RolloutRecord] {
        try RolloutRecord.fetchAll(db, sql: "SELECT * FROM rollouts ORDER BY created_at, id")
    }

    static func rollout(_ db: any LedgerSession, id: String) throws -> RolloutRecord {
        guard let rollout = try RolloutRecord.fetchOne(db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]) else {
            throw LedgerError.unknownRollout(id: id)
        }
        return rollout
    }

    static func model(_ db: any LedgerSession, sha256: String) throws -> ModelRecord {
        guard let model = try ModelRecord.fetchOne(db, sql: "SELECT * FROM models WHERE sha256 = ?", arguments: [sha256]) else {
            throw LedgerError.unknownModel(sha256: sha256)
        }
        return model
    }

    static func modelExists(_ db: any LedgerSession, sha256: String) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT 1 FROM models WHERE sha256 = ?", arguments: [sha256]) != nil
    }

    static func assignment(_ db: any LedgerSession, id: String) throws -> AssignmentRecord? {
        try AssignmentRecord.fetchOne(db, sql: "SELECT * FROM assignments WHERE id = ?", arguments: [id])
    }

    static func latestDecision(_ db: any LedgerSession, rolloutID: String) throws -> DecisionRecord? {
        _ = try rollout(db, id: rolloutID)
        let row = try Row.fetchOne(
            db, sql: "SELECT * FROM decisions WHERE rollout_id = ? ORDER BY id DESC LIMIT 1", arguments: [rolloutID])
        return try row.map(decisionRecord)
    }

    static func windowCounts(_ db: any LedgerSession, rolloutID: String) throws -> [(agentID: String, windows: Int, samples: Int)] {
        _ = try rollout(db, id: rolloutID)
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT w.agent_id, SUM(w.windows_merged) AS windows, SUM(w.count) AS samples
                FROM windows w JOIN assignments a ON a.id = w.assignment_id
                WHERE a.rollout_id = ?
                GROUP BY w.agent_id ORDER BY w.agent_id
                """,
            arguments: [rolloutID])
        return rows.map { (agentID: $0["agent_id"], windows: $0["windows"], samples: $0["samples"]) }
    }

    /// The plan of a staged rollout; nil for one opened from the configuration file.
    static func plan(_ db: any LedgerSession, rolloutID: String) throws -> RolloutPlan? {
        try Row.fetchOne(db, sql: "\(planColumns) WHERE p.rollout_id = ?", arguments: [rolloutID]).map(plan(from:))
    }

    /// A plan's row, with its rollout's model name; queries add their joins and conditions.
    static let planColumns = "SELECT p.*, r.model_name FROM rollout_plans p JOIN rollouts r ON r.id = p.rollout_id"

    static func plan(from row: Row) throws -> RolloutPlan {
        let stateText: String = row["state"]
        guard let state = RolloutState(rawValue: stateText) else {
            throw LedgerError.unexpectedValue(column: "rollout_plans.state", value: stateText)
        }
        return RolloutPlan(
            rolloutID: row["rollout_id"], modelName: row["model_name"],
            target: try LabelCoding.decode([String: String].self, from: row["target"], column: "rollout_plans.target"),
            stages: try LabelCoding.decode([Int].self, from: row["stages"], column: "rollout_plans.stages"),
            stage: row["stage"], state: state, windowMaxAgeMillis: row["window_max_age_ms"], createdBy: row["created_by"],
            minimumAgentVersion: try (row["minimum_agent_version"] as String?).map { text in
                guard let version = ReleaseVersion(text) else {
                    throw LedgerError.unexpectedValue(column: "rollout_plans.minimum_agent_version", value: text)
                }
                return version
            })
    }

    /// Who did what to the rollout and why, oldest first.
    static func events(_ db: any LedgerSession, rolloutID: String) throws -> [RolloutEvent] {
        try Row.fetchAll(db, sql: "SELECT * FROM rollout_events WHERE rollout_id = ? ORDER BY id", arguments: [rolloutID]).map {
            RolloutEvent(id: $0["id"], rolloutID: $0["rollout_id"], at: $0["at"], actor: $0["actor"],
                         action: $0["action"], stage: $0["stage"], reason: $0["reason"])
        }
    }

    /// Stores one evaluation with its audit trail: bounds, n, policy version and bands, reason.
    static func insert(
        _ decision: Decision, slices: [SliceKey: Decision], rolloutID: String, stage: Int?, at date: Date, fencingToken: Int64?,
        into db: any LedgerSession
    ) throws {
        let judged = slices.isEmpty ? nil : String(decoding: try sliceCoder.encode(SliceDecision.list(slices)), as: UTF8.self)
        try fenced {
            try db.execute(
                sql: """
                    INSERT INTO decisions (rollout_id, decided_at, outcome, metric, n, statistic, lower_bound, upper_bound,
                                           confidence, policy_version, stage, reason, ship_below, stay_fp16_above, slices,
                                           bound_method, fencing_token)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    rolloutID, date, decision.outcome.rawValue, decision.metric, decision.n, decision.statistic,
                    decision.lowerBound, decision.upperBound, decision.confidence, decision.policyVersion, stage,
                    decision.reason, decision.shipBelow, decision.stayFP16Above, judged, decision.boundMethod?.rawValue, fencingToken,
                ])
        }
    }

    /// Runs a fenced insert; the database's refusal (migration v11's triggers) becomes
    /// `LedgerError.notTheController`.
    static func fenced(_ insert: () throws -> Void) throws {
        do {
            try insert()
        } catch {
            guard let violation = ConstraintViolation(error), violation.kind == .trigger else { throw error }
            throw LedgerError.notTheController(reason: violation.message)
        }
    }

    private static let sliceCoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    /// The latest evaluation of each stage, first stage first.
    static func stageDecisions(_ db: any LedgerSession, rolloutID: String) throws -> [DecisionRecord] {
        _ = try rollout(db, id: rolloutID)
        return try Row.fetchAll(db, sql: """
            SELECT * FROM decisions WHERE id IN (SELECT MAX(id) FROM decisions WHERE rollout_id = ? GROUP BY stage)
            ORDER BY stage
            """, arguments: [rolloutID]).map(decisionRecord)
    }

    /// Every evaluation of the rollout, oldest first.
    static func decisions(_ db: any LedgerSession, rolloutID: String) throws -> [DecisionRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM decisions WHERE rollout_id = ? ORDER BY id", arguments: [rolloutID])
            .map(decisionRecord)
    }

    private static func decisionRecord(_ row: Row) throws -> DecisionRecord {
        let outcomeText: String = row["outcome"]
        guard let outcome = Outcome(rawValue: outcomeText) else {
            throw LedgerError.unexpectedValue(column: "decisions.outcome", value: outcomeText)
        }
        let methodText: String? = row["bound_method"]
        let boundMethod = try methodText.map { text in
            guard let method = BoundMethod(rawValue: text) else {
                throw LedgerError.unexpectedValue(column: "decisions.bound_method", value: text)
            }
            return method
        }
        let decision = Decision(
            outcome: outcome, metric: row["metric"], n: row["n"], statistic: row["statistic"],
            lowerBound: row["lower_bound"], upperBound: row["upper_bound"], confidence: row["confidence"],
            policyVersion: row["policy_version"], reason: row["reason"] ?? "",
            shipBelow: row["ship_below"], stayFP16Above: row["stay_fp16_above"], boundMethod: boundMethod)
        let slicesText: String? = row["slices"]
        let slices = try slicesText.map { try LabelCoding.decode([SliceDecision].self, from: $0, column: "decisions.slices") } ?? []
        return DecisionRecord(
            id: row["id"], rolloutID: row["rollout_id"], decidedAt: row["decided_at"], stage: row["stage"], decision: decision,
            slices: slices)
    }
}
