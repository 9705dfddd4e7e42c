import Foundation

/// Where a staged rollout is in its life. Open states keep the rollout's agents shadowing.
public enum RolloutState: String, Sendable, Codable, CaseIterable {
    /// Created by an operator; no agent is enrolled until it is started.
    case created
    /// Shadowing on the current stage's agents; the controller advances on `ship`.
    case running
    /// Stopped by an operator: agents keep shadowing, the controller takes no decision.
    case paused
    /// The policy said `needs-qat`: waits for an operator (promote --force or abort).
    case held
    /// Closed: the candidate passed the last stage (or was forced through).
    case promoted
    /// Closed: the policy said `stay-fp16`; the reference stays primary.
    case rolledBack = "rolled-back"
    /// Closed by an operator; the reference stays primary.
    case aborted

    public var isOpen: Bool { self == .created || self == .running || self == .paused || self == .held }
}

/// The staged part of a rollout: which agents it targets, how it grows, and where it is.
public struct RolloutPlan: Sendable, Equatable, Codable {
    public var rolloutID: String
    /// The rollout's model name: an agent takes part in one open rollout per model name.
    public var modelName: String
    /// Labels an agent must carry (all of them, with these values); empty targets every agent.
    public var target: [String: String]
    /// Percentages of the target, strictly increasing, the last one 100.
    public var stages: [Int]
    /// Index into `stages` of the current stage.
    public var stage: Int
    public var state: RolloutState
    public var windowMaxAgeMillis: Int
    /// The operator who created it ("operator:<name>").
    public var createdBy: String
    /// Agents below this release (or reporting none) are not targeted; nil: any version.
    public var minimumAgentVersion: ReleaseVersion?

    public init(
        rolloutID: String, modelName: String, target: [String: String], stages: [Int], stage: Int, state: RolloutState,
        windowMaxAgeMillis: Int, createdBy: String, minimumAgentVersion: ReleaseVersion? = nil
    ) {
        self.rolloutID = rolloutID
        self.modelName = modelName
        self.target = target
        self.stages = stages
        self.stage = stage
        self.state = state
        self.windowMaxAgeMillis = windowMaxAgeMillis
        self.createdBy = createdBy
        self.minimumAgentVersion = minimumAgentVersion
    }

    public var isLastStage: Bool { stage == stages.count - 1 }
    public var percent: Int { stages[stage] }

    enum CodingKeys: String, CodingKey {
        case rolloutID = "rollout_id", modelName = "model_name", target, stages, stage, state
        case windowMaxAgeMillis = "window_max_age_ms", createdBy = "created_by"
        case minimumAgentVersion = "minimum_agent_version"
    }

    /// Stages must be percentages in 1...100, strictly increasing, ending at 100.
    public static func validate(stages: [Int]) throws {
        guard !stages.isEmpty else { throw LedgerError.invalidStages(stages, reason: "give at least one stage") }
        guard stages.allSatisfy({ (1...100).contains($0) }) else {
            throw LedgerError.invalidStages(stages, reason: "every stage is a percentage from 1 to 100")
        }
        guard zip(stages, stages.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw LedgerError.invalidStages(stages, reason: "stages must grow strictly")
        }
        guard stages.last == 100 else {
            throw LedgerError.invalidStages(stages, reason: "the last stage must be 100 % so promotion covers the whole target")
        }
    }
}

/// What an operator asks for when creating a staged rollout.
public struct StagedRolloutRequest: Sendable, Equatable {
    public var modelName: String
    public var referenceSHA256: String
    public var candidateSHA256: String
    public var samplingRate: Double
    public var windowSize: Int
    public var windowMaxAgeMillis: Int
    public var policyVersion: String
    public var target: [String: String]
    public var stages: [Int]
    public var minimumAgentVersion: ReleaseVersion?

    public init(
        modelName: String, referenceSHA256: String, candidateSHA256: String, samplingRate: Double, windowSize: Int,
        windowMaxAgeMillis: Int, policyVersion: String, target: [String: String], stages: [Int],
        minimumAgentVersion: ReleaseVersion? = nil
    ) {
        self.modelName = modelName
        self.referenceSHA256 = referenceSHA256
        self.candidateSHA256 = candidateSHA256
        self.samplingRate = samplingRate
        self.windowSize = windowSize
        self.windowMaxAgeMillis = windowMaxAgeMillis
        self.policyVersion = policyVersion
        self.target = target
        self.stages = stages
        self.minimumAgentVersion = minimumAgentVersion
    }
}

/// One line of a rollout's history: who (an operator or "controller") did what, at which stage, why.
public struct RolloutEvent: Sendable, Equatable, Codable {
    public var id: Int64
    public var rolloutID: String
    public var at: Date
    public var actor: String
    public var action: String
    public var stage: Int?
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case id, rolloutID = "rollout_id", at, actor, action, stage, reason
    }
}

/// An agent as the ledger knows it: from its last Hello.
public struct AgentRecord: Sendable, Equatable {
    public var id: String
    public var labels: [String: String]
    public var kernelPath: String
    public var agentVersion: String
    public var firstSeenAt: Date
    public var lastSeenAt: Date

    public init(
        id: String, labels: [String: String], kernelPath: String, agentVersion: String, firstSeenAt: Date, lastSeenAt: Date
    ) {
        self.id = id
        self.labels = labels
        self.kernelPath = kernelPath
        self.agentVersion = agentVersion
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
    }
}

/// Labels are stored as a JSON object with sorted keys, so equal label sets are equal text.
enum LabelCoding {
    static func encode(_ labels: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(labels), as: UTF8.self)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from text: String, column: String) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw LedgerError.unexpectedValue(column: column, value: text)
        }
    }
}
