import Crypto
import DaemonSupport
import FleetProtocol
import Foundation
import Ledger
import Logging
import ShadowEval
import NIOConcurrencyHelpers

/// Owns the rollouts: registers models, tells each agent what to shadow, and re-evaluates the
/// policy each time evidence lands in the ledger. Two kinds of rollout:
///
/// - the one the configuration file opens at start-up (`rollout:`), shadowed by every agent and
///   decided once;
/// - staged rollouts created through the admin API, each stage gated by the policy on that stage's
///   own evidence (`RolloutController+Stages.swift`).
///
/// All state is in the ledger; this actor only serialises the writers, so that two agents' windows
/// never race to write contradicting decisions. It runs on the ledger thread (`LedgerExecutor`), with
/// the `LedgerWriter` that tells it which stages gained windows, never on the cooperative pool.
public actor RolloutController {
    let ledger: Ledger
    let store: ModelStore
    let policy: Policy
    let settings: Settings
    let metrics: CoordinatorMetrics
    let logger: Logger
    nonisolated let broadcast = AssignmentBroadcast()
    /// The configuration file's rollout, if it is open.
    private var configured: (rollout: RolloutRecord, assignment: Assignment)?
    /// Its agents keep shadowing after the decision; no further decision is taken.
    private var configuredDecided = false
    /// When each stage is evaluated next (the policy's `evaluation:` cadence).
    private var schedule: EvaluationSchedule
    nonisolated let executor: LedgerExecutor
    /// (agent, assignment) pairs whose windows count in the assignment's stage (`standing`).
    private nonisolated let members = NIOLockedValueBox<Set<AgentAssignment>>([])
    /// The controller term this coordinator holds (`ControllerLease`); nil while another holds it.
    /// Only the holder evaluates: the others store windows.
    private var term: ControllerTerm? {
        didSet { holdsTermNow.withLockedValue { $0 = term != nil } }
    }
    private nonisolated let holdsTermNow = NIOLockedValueBox(false)
    /// Per assignment, the windows this controller has taken into account: those its own writer
    /// stored, and, while it holds the term, those other coordinators stored (`claimTerm`).
    private var counted: [String: Int] = [:]

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// How the controller signs models and assignments and what it tells agents on promotion.
    public struct Settings: Sendable {
        /// Signs each registered model's manifest and each assignment sent; nil sends both unsigned.
        public var signingKey: Curve25519.Signing.PrivateKey?
        /// After a promotion, how long agents keep the former reference loaded and shadowed.
        public var referenceResidentMillis: Int
        /// How long a signed assignment is valid; sessions send it again, renewed, at half of it.
        public var assignmentLifetime: Duration

        public init(
            signingKey: Curve25519.Signing.PrivateKey? = nil, referenceResidentMillis: Int = 600_000,
            assignmentLifetime: Duration = .seconds(86_400)
        ) {
            self.signingKey = signingKey
            self.referenceResidentMillis = referenceResidentMillis
            self.assignmentLifetime = assignmentLifetime
        }
    }

    public init(
        ledger: Ledger, store: ModelStore, policy: Policy, settings: Settings = Settings(),
        metrics: CoordinatorMetrics = CoordinatorMetrics(), logger: Logger
    ) {
        self.ledger = ledger
        self.store = store
        self.policy = policy
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.schedule = EvaluationSchedule(policy.evaluation)
        self.executor = LedgerExecutor()
    }

    /// Stores both models and opens (or resumes, after a restart) the configuration file's rollout.
    public func open(_ startup: CoordinatorConfiguration.StartupRollout) throws {
        let reference = try register(fileAt: startup.reference, precision: startup.referencePrecision, name: startup.modelName)
        let candidate = try register(fileAt: startup.candidate, precision: startup.candidatePrecision, name: startup.modelName)
        let rollout = try ledger.ensureRollout(
            modelName: startup.modelName, referenceSHA256: reference.sha256, candidateSHA256: candidate.sha256,
            samplingRate: startup.samplingRate, windowSize: startup.windowSize, policyVersion: policy.version)
        let assignmentRecord = try ledger.assignment(forRollout: rollout.id)
        let assignment = Self.assignment(
            id: assignmentRecord.id, rollout: rollout, reference: Self.modelRef(reference),
            candidate: Self.modelRef(candidate), task: candidate.task, windowMaxAgeMillis: startup.windowMaxAgeMillis)
        configured = (rollout, assignment)
        logger.info("rollout open", metadata: [
            "rollout": "\(rollout.id)", "assignment": "\(assignment.assignmentID)",
            "reference": "\(reference.sha256)", "candidate": "\(candidate.sha256)",
        ])
    }

    /// What `agentID` should serve, one assignment per model name, newest rollout first: for each
    /// name, its newest staged rollout's current stage (shadowing while it is open, the candidate
    /// once promoted, the reference once rolled back or aborted); the configuration file's rollout
    /// for its name if no staged rollout has taken the agent for that name.
    func assignments(for agentID: String) throws -> [Assignment] {
        var assignments = try ledger.latestPlans(ofAgent: agentID).map(stagedAssignment)
        if let configured = configured?.assignment, !assignments.contains(where: { $0.modelName == configured.modelName }) {
            assignments.append(configured)
        }
        return assignments
    }

    /// `assignment` as sent to `agentID`: with a signing key, versioned from the ledger's one counter
    /// (the same version while the agent's assignment and mode stay the same), expiring after the
    /// configured lifetime, and signed. A rollback is signed as an explicit one.
    func signed(_ assignment: Assignment, for agentID: String, now: Date = Date()) throws -> Assignment {
        guard let key = settings.signingKey else { return assignment }
        let version = try ledger.assignmentVersion(agentID: agentID, assignmentID: assignment.assignmentID, mode: assignment.mode.ledgerName)
        let expiry = now.addingTimeInterval(Double(settings.assignmentLifetime / .milliseconds(1)) / 1000)
        return try AssignmentSigning.sign(
            assignment, version: UInt64(version), expiresAtMillis: UInt64(expiry.timeIntervalSince1970 * 1000),
            explicitRollback: assignment.mode == .rolledBack, with: key)
    }

    /// Windows of any stage of any rollout are accepted (an agent's spool may still hold windows of
    /// a stage that has since advanced), but only from the stage's members; only the current stage's
    /// count toward a decision. Asked per window, so answered on the caller's thread (a read, no hop
    /// to the ledger thread), and membership once found is remembered: members are never removed.
    nonisolated func standing(ofAgent agentID: String, inAssignment id: String) throws -> AssignmentStanding {
        let pair = AgentAssignment(agentID: agentID, assignmentID: id)
        if members.withLockedValue({ $0.contains(pair) }) { return .member }
        let standing = try ledger.standing(ofAgent: agentID, inAssignment: id)
        if standing == .member { members.withLockedValue { _ = $0.insert(pair) } }
        return standing
    }

    /// Notes the windows a batch stored, per assignment, and evaluates the stages that are due.
    func windowsStored(_ windows: [String: Int]) {
        for (assignmentID, count) in windows { counted[assignmentID, default: 0] += count }
        guard term != nil else { return }
        let now = ContinuousClock.now
        for (assignmentID, count) in windows.sorted(by: { $0.key < $1.key })
        where schedule.stored(count, assignmentID: assignmentID, at: now) {
            evaluate(assignmentID, at: now)
        }
    }

    /// Takes or renews the controller term (`ControllerLease`). While it holds the term, the
    /// controller also counts the windows other coordinators stored for the stages being decided,
    /// so that they are evaluated as its own are; a new holder thus evaluates at once.
    /// A claim that cannot reach the ledger gives the term up here (the database ends it anyway) and
    /// throws.
    func claimTerm(holder: String, adminURL: String?, lasting duration: Duration) throws {
        let previous = term
        var failure: (any Error)?
        do {
            term = try ledger.acquireControllerTerm(holder: holder, adminURL: adminURL, lasting: duration)
        } catch {
            term = nil
            failure = error
            logger.warning("cannot renew the controller term", metadata: ["error": "\(error)"])
        }
        if term?.token != previous?.token {
            if let term {
                logger.notice("controller term taken", metadata: ["token": "\(term.token)", "holder": "\(holder)"])
            } else {
                logger.notice("controller term lost", metadata: ["token": "\(previous.map { String($0.token) } ?? "-")"])
            }
            metrics.controllerTerm.record(term?.token ?? 0)
        }
        if let failure { throw failure }
        guard term != nil else { return }
        do {
            try countOtherCoordinatorsWindows()
        } catch {
            logger.error("cannot read the stages' windows", metadata: ["error": "\(error)"])
        }
    }

    /// Whether this coordinator holds the controller term, as of its last claim.
    nonisolated var holdsTerm: Bool { holdsTermNow.withLockedValue { $0 } }

    /// The live term another coordinator holds, if any: where operators' rollout commands go.
    nonisolated func otherHoldersTerm() throws -> ControllerTerm? {
        guard let latest = try ledger.latestControllerTerm(), latest.expiresAt > Date(), !holdsTerm else { return nil }
        return latest
    }

    private func countOtherCoordinatorsWindows() throws {
        var stored: [String: Int] = [:]
        if let (rollout, assignment) = configured, !configuredDecided {
            stored[assignment.assignmentID] = try ledger.rolloutEvidence(forRollout: rollout.id).overall.windows
        }
        for plan in try ledger.openPlans() where plan.state == .running {
            let assignment = try ledger.assignment(forRollout: plan.rolloutID, stage: plan.stage)
            stored[assignment.id] = try ledger.rolloutEvidence(forRollout: plan.rolloutID, stage: plan.stage).overall.windows
        }
        var others: [String: Int] = [:]
        for (assignmentID, windows) in stored where windows > counted[assignmentID, default: 0] {
            others[assignmentID] = windows - counted[assignmentID, default: 0]
        }
        if !others.isEmpty { windowsStored(others) }
    }

    /// Evaluates the stages whose windows have waited the cadence's time (called by a timer).
    func evaluateOverdue() {
        guard term != nil else { return }
        let now = ContinuousClock.now
        for assignmentID in schedule.overdue(at: now) { evaluate(assignmentID, at: now) }
    }

    /// How long the evaluation timer may sleep; nil when the policy evaluates after every window.
    nonisolated var evaluationTick: Duration? {
        EvaluationSchedule(policy.evaluation).tick
    }

    /// Re-evaluates the policy for the stage the assignment belongs to, if it is still being decided:
    /// the configuration file's rollout until decided, a running staged rollout's current stage.
    /// A failure is logged: the windows are stored and the next evaluation tries again.
    private func evaluate(_ assignmentID: String, at now: ContinuousClock.Instant) {
        schedule.evaluated(assignmentID, at: now)
        do {
            if let (rollout, assignment) = configured, assignment.assignmentID == assignmentID {
                if !configuredDecided { try decideConfigured(rollout) }
            } else if let assignment = try ledger.assignment(id: assignmentID),
                      let plan = try ledger.plan(forRollout: assignment.rolloutID),
                      plan.state == .running, plan.stage == assignment.stage
            {
                try decideStage(plan)
            } else {
                schedule.forget(assignmentID)
            }
        } catch {
            logger.error("policy evaluation failed", metadata: ["assignment": "\(assignmentID)", "error": "\(error)"])
        }
    }

    private func decideConfigured(_ rollout: RolloutRecord) throws {
        let judged = PolicyEvaluator.decide(try ledger.rolloutEvidence(forRollout: rollout.id), policy: policy)
        let decision = judged.decision
        try ledger.recordDecision(decision, slices: judged.slices, rolloutID: rollout.id, at: Date())
        metrics.decided(decision, rolloutID: rollout.id, stage: 0, brokenGuards: judged.brokenGuards.count)
        guard decision.outcome != .collecting else { return }
        configuredDecided = true
        logDecision(decision, rolloutID: rollout.id, stage: nil)
    }

    func logDecision(_ decision: Decision, rolloutID: String, stage: Int?) {
        logger.notice("rollout decided", metadata: [
            "rollout": "\(rolloutID)", "stage": "\(stage.map(String.init) ?? "-")", "outcome": "\(decision.outcome.rawValue)",
            "metric": "\(decision.metric)", "n": "\(decision.n)", "statistic": "\(decision.statistic)",
            "bounds": "[\(decision.lowerBound), \(decision.upperBound)]",
        ])
    }

    /// Copies a model file into the store and registers it in the ledger, with a signed manifest
    /// when the coordinator has a signing key.
    func register(fileAt path: String, precision: String, name: String, task: TaskKind = .topOneClassification) throws -> ModelRecord {
        let stored = try store.put(fileAt: path)
        var model = ModelRecord(
            sha256: stored.sha256, name: name, precision: precision, sizeBytes: Int64(stored.sizeBytes), registeredAt: Date(),
            task: task)
        if let key = settings.signingKey {
            let version = try ledger.nextManifestVersion(name: name, precision: precision)
            let signed = try ManifestSigning.sign(ModelManifest.with {
                $0.sha256 = model.sha256
                $0.sizeBytes = UInt64(model.sizeBytes)
                $0.name = name
                $0.precision = precision
                $0.registeredAtMs = UInt64(model.registeredAt.timeIntervalSince1970 * 1000)
                $0.version = UInt64(version)
            }, with: key)
            model.manifest = signed.manifest
            model.signature = signed.signature
            model.manifestVersion = version
            model.manifestKeyID = signed.keyID
        }
        try ledger.registerModel(model)
        // Coordinators sharing the ledger send the model to their agents from its bytes there.
        if ledger.sharesModels { try ledger.storeModelBytes(sha256: stored.sha256, from: try store.file(of: stored.sha256)) }
        return try ledger.model(sha256: stored.sha256)
    }

    static func modelRef(_ model: ModelRecord) -> ModelRef {
        var reference = ModelRef()
        reference.sha256 = model.sha256
        reference.sizeBytes = UInt64(model.sizeBytes)
        reference.format = "onnx"
        reference.precision = model.precision
        if let manifest = model.manifest, let signature = model.signature {
            reference.manifest = SignedManifest.with {
                $0.manifest = manifest
                $0.signature = signature
                // Manifests signed before key ids name none; agents then try every key they trust.
                if let keyID = model.manifestKeyID { $0.keyID = keyID }
            }
        }
        return reference
    }

    /// What the candidate's registration says its outputs mean.
    static func assignment(
        id: String, rollout: RolloutRecord, reference: ModelRef, candidate: ModelRef, task: TaskKind?, windowMaxAgeMillis: Int
    ) -> Assignment {
        var assignment = Assignment()
        assignment.assignmentID = id
        assignment.modelName = rollout.modelName
        assignment.reference = reference
        assignment.candidate = candidate
        assignment.samplingRate = rollout.samplingRate
        assignment.windowSize = UInt32(rollout.windowSize)
        assignment.windowMaxAgeMs = UInt32(windowMaxAgeMillis)
        assignment.task = TaskSpec(task ?? .topOneClassification)
        return assignment
    }
}

/// An agent and an assignment whose stage counts its windows.
private struct AgentAssignment: Hashable {
    let agentID: String
    let assignmentID: String
}
