import Foundation
import GRDB
import ShadowEval

/// Staged rollouts (migration v2): plans, stage membership, per-stage evidence and decisions, and
/// the history of who did what. Every change of state is one transaction with its event row, so a
/// restarted coordinator finds the same stage, the same agents and the same evidence.
extension Ledger {
    /// Creates an open rollout with its stage-0 assignment and its plan in state `created`.
    public func createStagedRollout(_ request: StagedRolloutRequest, actor: String, at date: Date = Date()) throws -> RolloutRecord {
        guard request.samplingRate > 0 && request.samplingRate <= 1 else {
            throw LedgerError.invalidSamplingRate(request.samplingRate)
        }
        guard request.windowSize >= 1 else { throw LedgerError.invalidWindowSize(request.windowSize) }
        try RolloutPlan.validate(stages: request.stages)
        return try store.write { db in
            for sha256 in [request.referenceSHA256, request.candidateSHA256] where try !LedgerQueries.modelExists(db, sha256: sha256) {
                throw LedgerError.unknownModel(sha256: sha256)
            }
            if let open = try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM rollouts
                    WHERE model_name = ? AND reference_sha256 = ? AND candidate_sha256 = ? AND status = 'shadowing'
                    """,
                arguments: [request.modelName, request.referenceSHA256, request.candidateSHA256])
            {
                throw LedgerError.rolloutAlreadyOpen(id: open)
            }
            let rollout = RolloutRecord(
                id: Self.makeIdentifier(prefix: "r"), modelName: request.modelName,
                referenceSHA256: request.referenceSHA256, candidateSHA256: request.candidateSHA256,
                samplingRate: request.samplingRate, windowSize: request.windowSize,
                policyVersion: request.policyVersion, status: .shadowing, outcome: nil, createdAt: date, decidedAt: nil)
            try db.insert(rollout)
            try db.insert(AssignmentRecord(id: Self.makeIdentifier(prefix: "a"), rolloutID: rollout.id, stage: 0, createdAt: date))
            try db.execute(
                sql: """
                    INSERT INTO rollout_plans (rollout_id, target, stages, stage, state, window_max_age_ms, created_by, minimum_agent_version)
                    VALUES (?, ?, ?, 0, 'created', ?, ?, ?)
                    """,
                arguments: [
                    rollout.id, try LabelCoding.encode(request.target),
                    String(decoding: try JSONEncoder().encode(request.stages), as: UTF8.self),
                    request.windowMaxAgeMillis, actor, request.minimumAgentVersion?.description,
                ])
            try recordEvent(db, rolloutID: rollout.id, at: date, actor: actor, action: "create", stage: nil,
                                 reason: "stages \(request.stages) of target \(try LabelCoding.encode(request.target))"
                                    + (request.minimumAgentVersion.map { ", agents of version \($0) or later" } ?? ""))
            return try LedgerQueries.rollout(db, id: rollout.id)
        }
    }

    /// The plan of a staged rollout; nil for a rollout opened from the configuration file.
    public func plan(forRollout id: String) throws -> RolloutPlan? {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try LedgerQueries.plan(db, rolloutID: id)
        }
    }

    /// The plans of every staged rollout that is still open, oldest first.
    public func openPlans() throws -> [RolloutPlan] {
        try store.read { db in
            try Row.fetchAll(db, sql: """
                \(LedgerQueries.planColumns)
                WHERE r.status = 'shadowing' ORDER BY r.created_at, r.id
                """).map(LedgerQueries.plan(from:))
        }
    }

    /// Moves an open plan from one of `allowed` states to `state`, with its event, in one transaction.
    @discardableResult
    public func changeState(
        rolloutID: String, from allowed: Set<RolloutState>, to state: RolloutState,
        actor: String, action: String, reason: String, at date: Date = Date()
    ) throws -> RolloutPlan {
        try store.write { db in
            var plan = try Self.requirePlan(db, rolloutID: rolloutID, allowed: allowed, action: action)
            plan.state = state
            try db.execute(sql: "UPDATE rollout_plans SET state = ? WHERE rollout_id = ?", arguments: [state.rawValue, rolloutID])
            if !state.isOpen {
                let outcome: Outcome = state == .promoted ? .ship : .stayFP16
                try db.execute(
                    sql: "UPDATE rollouts SET status = 'decided', outcome = ?, decided_at = ? WHERE id = ?",
                    arguments: [outcome.rawValue, date, rolloutID])
            }
            try recordEvent(db, rolloutID: rolloutID, at: date, actor: actor, action: action, stage: plan.stage, reason: reason)
            try db.announceAssignmentChange()
            return plan
        }
    }

    /// Moves a running rollout to its next stage, with a fresh assignment for that stage's evidence.
    @discardableResult
    public func advanceStage(rolloutID: String, actor: String, reason: String, at date: Date = Date()) throws -> RolloutPlan {
        try store.write { db in
            var plan = try Self.requirePlan(db, rolloutID: rolloutID, allowed: [.running], action: "advance")
            guard !plan.isLastStage else {
                throw LedgerError.invalidTransition(id: rolloutID, state: "at its last stage", action: "advance")
            }
            plan.stage += 1
            try db.execute(sql: "UPDATE rollout_plans SET stage = ? WHERE rollout_id = ?", arguments: [plan.stage, rolloutID])
            try db.insert(AssignmentRecord(id: Self.makeIdentifier(prefix: "a"), rolloutID: rolloutID, stage: plan.stage, createdAt: date))
            try recordEvent(db, rolloutID: rolloutID, at: date, actor: actor, action: "advance", stage: plan.stage, reason: reason)
            try db.announceAssignmentChange()
            return plan
        }
    }

    /// Adds agents to a rollout at `stage`. An agent already in another open rollout of the same
    /// model name is refused; rollouts of other model names do not matter.
    public func enroll(agentIDs: [String], rolloutID: String, stage: Int, at date: Date = Date()) throws {
        try store.write { db in
            let modelName = try LedgerQueries.rollout(db, id: rolloutID).modelName
            for agentID in agentIDs {
                if let other = try Self.openRollouts(db, ofAgent: agentID)[modelName], other != rolloutID {
                    throw LedgerError.agentInAnotherRollout(agentID: agentID, rolloutID: other, modelName: modelName)
                }
                try db.execute(
                    sql: """
                        INSERT INTO stage_members (rollout_id, agent_id, stage, enrolled_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (rollout_id, agent_id) DO NOTHING
                        """,
                    arguments: [rolloutID, agentID, stage, date])
            }
            try db.announceAssignmentChange()
        }
    }

    /// The rollout's agents and the stage each joined in, ordered by agent id.
    public func members(ofRollout id: String) throws -> [(agentID: String, stage: Int)] {
        try store.read { db in
            try Row.fetchAll(
                db, sql: "SELECT agent_id, stage FROM stage_members WHERE rollout_id = ? ORDER BY agent_id", arguments: [id]
            ).map { (agentID: $0["agent_id"], stage: $0["stage"]) }
        }
    }

    /// The open staged rollouts the agent is in, by model name (one at most per name).
    public func openRollouts(ofAgent agentID: String) throws -> [String: String] {
        try store.read { db in try Self.openRollouts(db, ofAgent: agentID) }
    }

    /// The rollout's assignment for one stage.
    public func assignment(forRollout id: String, stage: Int) throws -> AssignmentRecord {
        try store.read { db in
            guard let assignment = try AssignmentRecord.fetchOne(
                db, sql: "SELECT * FROM assignments WHERE rollout_id = ? AND stage = ?", arguments: [id, stage])
            else { throw LedgerError.unknownRollout(id: id) }
            return assignment
        }
    }

    /// The assignment with this id, if any (a window may name an earlier stage's assignment).
    public func assignment(id: String) throws -> AssignmentRecord? {
        try store.read { db in try LedgerQueries.assignment(db, id: id) }
    }

    /// Whether `agentID`'s windows may count in the evidence of assignment `id`'s stage: a staged
    /// rollout's stage counts its members only (enrolled in that stage or an earlier one: members
    /// stay); the configuration file's rollout, which has no plan, every agent.
    public func standing(ofAgent agentID: String, inAssignment id: String) throws -> AssignmentStanding {
        try store.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT a.rollout_id, a.stage, p.rollout_id IS NOT NULL AS staged, m.stage AS joined
                FROM assignments a
                LEFT JOIN rollout_plans p ON p.rollout_id = a.rollout_id
                LEFT JOIN stage_members m ON m.rollout_id = a.rollout_id AND m.agent_id = ?
                WHERE a.id = ?
                """, arguments: [agentID, id])
            else { return .unknown }
            let stage: Int = row["stage"]
            let joined: Int? = row["joined"]
            guard row["staged"] as Bool else { return .member }
            if let joined, joined <= stage { return .member }
            return .notMember(rolloutID: row["rollout_id"], stage: stage)
        }
    }

    /// Everything a decision rests on, over one stage's windows (or, `stage` nil, every window of the
    /// rollout): the sums, the sums per slice, and the models' mean latencies (for the guards). Read
    /// from the running totals, so its cost does not grow with the number of windows.
    public func rolloutEvidence(forRollout id: String, stage: Int? = nil) throws -> RolloutEvidence {
        try store.read { db in
            _ = try LedgerQueries.rollout(db, id: id)
            return try RunningTotalsStore.totals(db, rolloutID: id, stage: stage).evidence
        }
    }

    /// Stores one evaluation of a stage. The plan decides what follows; the rollout stays open.
    public func recordStageDecision(
        _ decision: Decision, slices: [SliceKey: Decision] = [:], rolloutID: String, stage: Int, at date: Date = Date()
    ) throws {
        try store.write { db in
            try LedgerQueries.insert(
                decision, slices: slices, rolloutID: rolloutID, stage: stage, at: date, fencingToken: fencingToken, into: db)
        }
    }

    public func events(forRollout id: String) throws -> [RolloutEvent] {
        try store.read { db in try LedgerQueries.events(db, rolloutID: id) }
    }

    public func rollouts() throws -> [RolloutRecord] {
        try store.read { db in try LedgerQueries.rollouts(db) }
    }

    public func rollout(id: String) throws -> RolloutRecord {
        try store.read { db in try LedgerQueries.rollout(db, id: id) }
    }

    public func models() throws -> [ModelRecord] {
        try store.read { db in try ModelRecord.fetchAll(db, sql: "SELECT * FROM models ORDER BY registered_at, sha256") }
    }

    public func model(sha256: String) throws -> ModelRecord {
        try store.read { db in try LedgerQueries.model(db, sha256: sha256) }
    }

    /// Moves agents' last sightings forward (their heartbeats, so `agents list` shows who is alive), in
    /// one transaction: the coordinator keeps sightings in memory and flushes them in batches. A
    /// sighting never moves a last-seen time back.
    public func recordAgentSightings(_ lastSeen: [String: Date]) throws {
        guard !lastSeen.isEmpty else { return }
        try store.write { db in
            for (id, date) in lastSeen {
                try db.execute(sql: "UPDATE agents SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?", arguments: [date, id, date])
            }
        }
    }

    /// Every agent that ever said Hello, ordered by id.
    public func agents() throws -> [AgentRecord] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY id").map { row in
                AgentRecord(
                    id: row["id"],
                    labels: try LabelCoding.decode([String: String].self, from: row["labels"], column: "agents.labels"),
                    kernelPath: row["kernel_path"], agentVersion: row["agent_version"],
                    firstSeenAt: row["first_seen_at"], lastSeenAt: row["last_seen_at"])
            }
        }
    }

    private static func requirePlan(_ db: any LedgerSession, rolloutID: String, allowed: Set<RolloutState>, action: String) throws -> RolloutPlan {
        _ = try LedgerQueries.rollout(db, id: rolloutID)
        guard let plan = try LedgerQueries.plan(db, rolloutID: rolloutID) else { throw LedgerError.notStaged(id: rolloutID) }
        guard allowed.contains(plan.state) else {
            throw LedgerError.invalidTransition(id: rolloutID, state: plan.state.rawValue, action: action)
        }
        return plan
    }

    private static func openRollouts(_ db: any LedgerSession, ofAgent agentID: String) throws -> [String: String] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT r.model_name, m.rollout_id FROM stage_members m JOIN rollouts r ON r.id = m.rollout_id
            WHERE m.agent_id = ? AND r.status = 'shadowing'
            """, arguments: [agentID])
        return Dictionary(rows.map { ($0["model_name"], $0["rollout_id"]) }, uniquingKeysWith: { first, _ in first })
    }

    /// Records who did what to a rollout, with the held controller term's token (agents' reports
    /// need none).
    func recordEvent(
        _ db: any LedgerSession, rolloutID: String, at date: Date, actor: String, action: String, stage: Int?, reason: String
    ) throws {
        try LedgerQueries.fenced {
            try db.execute(
                sql: "INSERT INTO rollout_events (rollout_id, at, actor, action, stage, reason, fencing_token) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [rolloutID, date, actor, action, stage, reason, fencingToken])
        }
    }
}

/// Whether an agent's window may count in an assignment's stage (`Ledger.standing(ofAgent:inAssignment:)`).
public enum AssignmentStanding: Sendable, Equatable {
    case unknown
    case member
    case notMember(rolloutID: String, stage: Int)
}
