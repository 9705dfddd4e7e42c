import DaemonSupport
import FleetProtocol
import Foundation
import Ledger
import Logging
import ShadowEval

/// Owns the open rollout: registers its models, hands agents their assignment, and re-evaluates
/// the policy each time evidence lands in the ledger. An actor, so that two agents' windows never
/// race to write contradicting decisions.
public actor RolloutController {
    private let ledger: Ledger
    private let store: ModelStore
    private let policy: Policy
    private let logger: Logger
    private var current: (rollout: RolloutRecord, assignment: Assignment)?
    private var decided = false

    public init(ledger: Ledger, store: ModelStore, policy: Policy, logger: Logger) {
        self.ledger = ledger
        self.store = store
        self.policy = policy
        self.logger = logger
    }

    /// Stores both models and opens (or resumes, after a restart) the rollout in the ledger.
    public func open(_ startup: CoordinatorConfiguration.StartupRollout) throws {
        let reference = try register(startup.reference, precision: startup.referencePrecision, name: startup.modelName)
        let candidate = try register(startup.candidate, precision: startup.candidatePrecision, name: startup.modelName)
        let rollout = try ledger.ensureRollout(
            modelName: startup.modelName, referenceSHA256: reference.sha256, candidateSHA256: candidate.sha256,
            samplingRate: startup.samplingRate, windowSize: startup.windowSize, policyVersion: policy.version)
        let assignmentRecord = try ledger.assignment(forRollout: rollout.id)
        var assignment = Assignment()
        assignment.assignmentID = assignmentRecord.id
        assignment.modelName = startup.modelName
        assignment.reference = reference
        assignment.candidate = candidate
        assignment.samplingRate = startup.samplingRate
        assignment.windowSize = UInt32(startup.windowSize)
        assignment.windowMaxAgeMs = UInt32(startup.windowMaxAgeMillis)
        current = (rollout, assignment)
        logger.info("rollout open", metadata: [
            "rollout": "\(rollout.id)", "assignment": "\(assignment.assignmentID)",
            "reference": "\(reference.sha256)", "candidate": "\(candidate.sha256)",
        ])
    }

    /// The assignment an agent should be shadowing, if a rollout is open.
    public func assignment() -> Assignment? {
        current?.assignment
    }

    public func isKnownAssignment(_ id: String) -> Bool {
        current?.assignment.assignmentID == id
    }

    /// Re-evaluates the policy on everything the ledger holds for the rollout and records the decision.
    public func evidenceArrived() throws {
        guard let (rollout, _) = current, !decided else { return }
        let decision = PolicyEvaluator.decide(try ledger.evidence(forRollout: rollout.id), policy: policy)
        try ledger.recordDecision(decision, rolloutID: rollout.id, at: Date())
        if decision.outcome != .collecting {
            decided = true
            logger.notice("rollout decided", metadata: [
                "rollout": "\(rollout.id)", "outcome": "\(decision.outcome.rawValue)", "metric": "\(decision.metric)",
                "n": "\(decision.n)", "statistic": "\(decision.statistic)",
                "bounds": "[\(decision.lowerBound), \(decision.upperBound)]",
            ])
        }
    }

    private func register(_ path: String, precision: String, name: String) throws -> ModelRef {
        let stored = try store.put(fileAt: path)
        try ledger.registerModel(ModelRecord(
            sha256: stored.sha256, name: name, precision: precision, sizeBytes: Int64(stored.sizeBytes), registeredAt: Date()))
        var reference = ModelRef()
        reference.sha256 = stored.sha256
        reference.sizeBytes = UInt64(stored.sizeBytes)
        reference.format = "onnx"
        reference.precision = precision
        return reference
    }
}
