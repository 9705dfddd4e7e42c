import FleetProtocol
import Foundation
import Ledger
import ShadowEval

/// Staged rollouts: operator commands, enrollment, and the policy gate of each stage.
/// Operators are recorded as "operator:<name>"; what the controller does on its own, as "controller".
extension RolloutController {
    static let controllerActor = "controller"
    static let defaultStages = [5, 25, 100]

    public func createRollout(_ request: AdminAPI.CreateRollout, by actor: String) throws -> RolloutRecord {
        let minimumAgentVersion = try request.minimumAgentVersion.map { text in
            guard let version = ReleaseVersion(text) else { throw ControllerError.invalidMinimumAgentVersion(text) }
            return version
        }
        let rollout = try ledger.createStagedRollout(
            StagedRolloutRequest(
                modelName: request.modelName, referenceSHA256: request.reference, candidateSHA256: request.candidate,
                samplingRate: request.samplingRate ?? 1, windowSize: request.windowSize ?? 100,
                windowMaxAgeMillis: request.windowMaxAgeMs ?? 1000, policyVersion: policy.version,
                target: request.target ?? [:], stages: request.stages ?? Self.defaultStages, minimumAgentVersion: minimumAgentVersion),
            actor: actor)
        logger.notice("rollout created", metadata: ["rollout": "\(rollout.id)", "by": "\(actor)"])
        return rollout
    }

    /// Enrolls the first stage's agents. Refused while an agent of the target is in another open
    /// rollout of the same model name, or while the configuration file's rollout of that name (which
    /// every agent shadows) is open.
    public func start(_ rolloutID: String, by actor: String, reason: String) throws {
        guard let plan = try ledger.plan(forRollout: rolloutID) else { throw LedgerError.notStaged(id: rolloutID) }
        if let configured = try configuredOpenRollout(modelName: plan.modelName) {
            throw ControllerError.configuredRolloutOpen(id: configured)
        }
        for agent in try ledger.agents() where StageSelection.matches(agent, plan: plan) {
            if let other = try ledger.openRollouts(ofAgent: agent.id)[plan.modelName], other != rolloutID {
                throw LedgerError.agentInAnotherRollout(agentID: agent.id, rolloutID: other, modelName: plan.modelName)
            }
        }
        let running = try ledger.changeState(
            rolloutID: rolloutID, from: [.created], to: .running, actor: actor, action: "start", reason: reason)
        try fillStage(running)
        broadcast.announce()
    }

    public func pause(_ rolloutID: String, by actor: String, reason: String) throws {
        try ledger.changeState(rolloutID: rolloutID, from: [.running], to: .paused, actor: actor, action: "pause", reason: reason)
    }

    /// Back to running; the next window re-evaluates the current stage.
    public func resume(_ rolloutID: String, by actor: String, reason: String) throws {
        try ledger.changeState(rolloutID: rolloutID, from: [.paused], to: .running, actor: actor, action: "resume", reason: reason)
    }

    public func abort(_ rolloutID: String, by actor: String, reason: String) throws {
        try ledger.changeState(
            rolloutID: rolloutID, from: [.created, .running, .paused, .held], to: .aborted,
            actor: actor, action: "abort", reason: reason)
        broadcast.announce()
    }

    /// Back to the reference, on an operator's word: during the stages (agents stop shadowing) or
    /// after promotion (agents switch back to the still-resident reference at once).
    public func rollBack(_ rolloutID: String, by actor: String, reason: String) throws {
        try ledger.changeState(
            rolloutID: rolloutID, from: [.running, .paused, .held, .promoted], to: .rolledBack,
            actor: actor, action: "roll-back", reason: reason)
        broadcast.announce()
    }

    /// Promotion before the last stage has shipped, on an operator's word.
    public func forcePromote(_ rolloutID: String, by actor: String, reason: String) throws {
        try ledger.changeState(
            rolloutID: rolloutID, from: [.running, .paused, .held], to: .promoted,
            actor: actor, action: "promote --force", reason: reason)
        broadcast.announce()
    }

    /// A connected agent that matches a running rollout's target joins its current stage if the
    /// stage has room (it grows with the target), or at the latest when the rollout reaches 100 %:
    /// the oldest running rollout of each model name the agent is not yet in.
    func agentConnected(_ agentID: String) throws {
        var taken = Set(try ledger.openRollouts(ofAgent: agentID).keys)
        for plan in try ledger.openPlans() where plan.state == .running && !taken.contains(plan.modelName) {
            try fillStage(plan)
            taken = Set(try ledger.openRollouts(ofAgent: agentID).keys)
        }
    }

    /// The current stage's assignment, in the serving mode the rollout's state implies.
    func stagedAssignment(_ plan: RolloutPlan) throws -> Assignment {
        let rollout = try ledger.rollout(id: plan.rolloutID)
        let candidate = try ledger.model(sha256: rollout.candidateSHA256)
        var assignment = Self.assignment(
            id: try ledger.assignment(forRollout: plan.rolloutID, stage: plan.stage).id, rollout: rollout,
            reference: Self.modelRef(try ledger.model(sha256: rollout.referenceSHA256)), candidate: Self.modelRef(candidate),
            task: candidate.task, windowMaxAgeMillis: plan.windowMaxAgeMillis)
        switch plan.state {
        case .created, .running, .paused, .held:
            assignment.mode = .shadow
        case .promoted:
            assignment.mode = .promoted
            assignment.referenceResidentMs = UInt64(settings.referenceResidentMillis)
        case .rolledBack, .aborted:
            assignment.mode = .rolledBack
        }
        return assignment
    }

    /// Evaluates the current stage on its own windows: `ship` advances (or, after the last stage,
    /// promotes), `needs-qat` holds, `stay-fp16` or a broken guard (e.g. the candidate slower than
    /// the reference) rolls back.
    func decideStage(_ plan: RolloutPlan) throws {
        let judged = PolicyEvaluator.decide(try ledger.rolloutEvidence(forRollout: plan.rolloutID, stage: plan.stage), policy: policy)
        let decision = judged.decision
        try ledger.recordStageDecision(decision, slices: judged.slices, rolloutID: plan.rolloutID, stage: plan.stage)
        metrics.decided(decision, rolloutID: plan.rolloutID, stage: plan.stage, brokenGuards: judged.brokenGuards.count)
        guard decision.outcome != .collecting else { return }
        logDecision(decision, rolloutID: plan.rolloutID, stage: plan.stage)
        func percent(_ value: Double) -> String { String(format: "%.2f %%", value * 100) }
        let evidence = "\(decision.metric) n=\(decision.n) bounds [\(percent(decision.lowerBound)), \(percent(decision.upperBound))] "
            + "policy \(decision.policyVersion)"
        switch decision.outcome {
        case .ship where plan.isLastStage:
            try ledger.changeState(
                rolloutID: plan.rolloutID, from: [.running], to: .promoted, actor: Self.controllerActor,
                action: "promote", reason: "ship at the last stage (\(plan.percent) %): \(evidence)")
        case .ship:
            let next = try ledger.advanceStage(
                rolloutID: plan.rolloutID, actor: Self.controllerActor,
                reason: "ship at stage \(plan.stage + 1) (\(plan.percent) %): \(evidence)")
            try fillStage(next)
        case .needsQAT:
            try ledger.changeState(
                rolloutID: plan.rolloutID, from: [.running], to: .held, actor: Self.controllerActor, action: "hold",
                reason: "needs-qat: quantization-aware training or a better PTQ recipe is needed; \(evidence)")
        case .stayFP16:
            try ledger.changeState(
                rolloutID: plan.rolloutID, from: [.running], to: .rolledBack, actor: Self.controllerActor,
                action: "roll-back", reason: "stay-fp16: \(decision.reason); \(evidence)")
        case .collecting:
            return
        }
        broadcast.announce()
    }

    /// Enrolls agents until the current stage holds its share of the target (members stay).
    private func fillStage(_ plan: RolloutPlan) throws {
        let targeted = try ledger.agents().filter { StageSelection.matches($0, plan: plan) }
        let members = Set(try ledger.members(ofRollout: plan.rolloutID).map(\.agentID))
        var room = StageSelection.size(percent: plan.percent, of: targeted.count) - members.count
        var enrolled: [String] = []
        for agent in StageSelection.order(targeted, rolloutID: plan.rolloutID) where room > 0 && !members.contains(agent.id) {
            guard try ledger.openRollouts(ofAgent: agent.id)[plan.modelName] == nil else { continue }
            enrolled.append(agent.id)
            room -= 1
        }
        guard !enrolled.isEmpty else { return }
        try ledger.enroll(agentIDs: enrolled, rolloutID: plan.rolloutID, stage: plan.stage)
        logger.info("agents enrolled", metadata: [
            "rollout": "\(plan.rolloutID)", "stage": "\(plan.stage)", "agents": "\(enrolled.joined(separator: ","))",
        ])
        broadcast.announce()
    }

    private func configuredOpenRollout(modelName: String) throws -> String? {
        try ledger.openRollouts().filter { $0.modelName == modelName }.first { try ledger.plan(forRollout: $0.id) == nil }?.id
    }
}

enum ControllerError: Error, CustomStringConvertible {
    case configuredRolloutOpen(id: String)
    case invalidMinimumAgentVersion(String)

    var description: String {
        switch self {
        case .configuredRolloutOpen(let id):
            "rollout \(id) from the coordinator's configuration file is open and every agent shadows it; "
                + "remove `rollout:` from the configuration (or let it decide) before starting a staged rollout of its model"
        case .invalidMinimumAgentVersion(let text):
            "minimum agent version \(text) is not a release version: give MAJOR.MINOR.PATCH, e.g. 0.2.0"
        }
    }
}
