import Foundation
import GRDB

/// After a rollout closes (migration v4): what each of its agents serves, how fast the agents
/// switched, and what they refused.
extension Ledger {
    /// For each model name, the newest staged rollout the agent is a member of, open or closed: its
    /// plan, newest first.
    public func latestPlans(ofAgent agentID: String) throws -> [RolloutPlan] {
        let plans = try store.read { db in
            try Row.fetchAll(db, sql: """
                \(LedgerQueries.planColumns)
                JOIN stage_members m ON m.rollout_id = p.rollout_id
                WHERE m.agent_id = ? ORDER BY r.created_at DESC, r.id DESC
                """, arguments: [agentID]).map(LedgerQueries.plan(from:))
        }
        var names: Set<String> = []
        return plans.filter { names.insert($0.modelName).inserted }
    }

    /// Records what happened to an agent's connection (`agent_events`): "replaced" or "replacement-refused".
    public func recordAgentEvent(agentID: String, action: String, reason: String, at date: Date = Date()) throws {
        try store.write { db in
            try db.execute(
                sql: "INSERT INTO agent_events (agent_id, at, action, reason) VALUES (?, ?, ?, ?)",
                arguments: [agentID, date, action, reason])
        }
    }

    public func recordServingChange(_ change: ServingChangeRecord) throws {
        try store.write { db in
            try db.execute(
                sql: """
                    INSERT INTO serving_changes (agent_id, assignment_id, at, mode, primary_sha256, switch_micros, loaded_from_disk)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    change.agentID, change.assignmentID, change.at, change.mode, change.primarySHA256,
                    change.switchMicros, change.loadedFromDisk,
                ])
        }
    }

    /// Every serving change reported for a rollout's assignments, oldest first.
    public func servingChanges(ofRollout id: String) throws -> [ServingChangeRecord] {
        try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.* FROM serving_changes s JOIN assignments a ON a.id = s.assignment_id
                WHERE a.rollout_id = ? ORDER BY s.id
                """, arguments: [id]).map {
                ServingChangeRecord(
                    agentID: $0["agent_id"], assignmentID: $0["assignment_id"], at: $0["at"], mode: $0["mode"],
                    primarySHA256: $0["primary_sha256"], switchMicros: $0["switch_micros"], loadedFromDisk: $0["loaded_from_disk"])
            }
        }
    }

    /// Records something an agent reported about a rollout (e.g. a refused model) in its history.
    public func recordAgentReport(assignmentID: String, agentID: String, action: String, reason: String, at date: Date = Date()) throws {
        try store.write { db in
            guard let assignment = try LedgerQueries.assignment(db, id: assignmentID) else { return }
            try recordEvent(
                db, rolloutID: assignment.rolloutID, at: date, actor: "agent:\(agentID)", action: action,
                stage: assignment.stage, reason: reason)
        }
    }
}

/// One switch of the model answering an agent's requests.
public struct ServingChangeRecord: Sendable, Equatable {
    public var agentID: String
    public var assignmentID: String
    public var at: Date
    /// "shadow", "promoted" or "rolled-back".
    public var mode: String
    public var primarySHA256: String
    public var switchMicros: Int64
    /// False when both models were resident and the switch was a pointer swap.
    public var loadedFromDisk: Bool

    public init(
        agentID: String, assignmentID: String, at: Date, mode: String, primarySHA256: String, switchMicros: Int64,
        loadedFromDisk: Bool
    ) {
        self.agentID = agentID
        self.assignmentID = assignmentID
        self.at = at
        self.mode = mode
        self.primarySHA256 = primarySHA256
        self.switchMicros = switchMicros
        self.loadedFromDisk = loadedFromDisk
    }
}
