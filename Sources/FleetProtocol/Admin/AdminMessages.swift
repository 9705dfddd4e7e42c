import Foundation

/// The JSON bodies of the coordinator's admin API (`Protocols/admin/openapi.yaml`), shared by the
/// coordinator that serves them and the `quantfleet` CLI that reads them. Dates are ISO 8601.
public enum AdminAPI {
    /// The CN prefix of operator certificates (`Deploy/pki/make-pki.sh --operator NAME`). Agent ids
    /// cannot contain ':', so no agent certificate can pass for an operator.
    public static let operatorPrefix = "operator:"

    public struct Model: Codable, Sendable, Equatable {
        public var sha256: String
        public var name: String
        public var precision: String
        public var sizeBytes: Int64
        public var registeredAt: Date
        /// When its outputs differ materially from another model's, in words, e.g. "classification: top-1 differs".
        public var task: String?
        /// True when the coordinator signed its manifest.
        public var signed: Bool?

        public init(
            sha256: String, name: String, precision: String, sizeBytes: Int64, registeredAt: Date, task: String? = nil,
            signed: Bool? = nil
        ) {
            self.sha256 = sha256
            self.name = name
            self.precision = precision
            self.sizeBytes = sizeBytes
            self.registeredAt = registeredAt
            self.task = task
            self.signed = signed
        }
    }

    public struct Agent: Codable, Sendable, Equatable {
        public var id: String
        public var labels: [String: String]
        public var kernelPath: String
        public var agentVersion: String
        public var connected: Bool
        public var firstSeenAt: Date
        public var lastSeenAt: Date
        /// The open staged rollouts the agent takes part in, by model name (one per name at most).
        /// Optional: a coordinator before 0.3.0 sent `rolloutID`, one at most.
        public var rollouts: [String: String]?

        public init(
            id: String, labels: [String: String], kernelPath: String, agentVersion: String, connected: Bool,
            firstSeenAt: Date, lastSeenAt: Date, rollouts: [String: String]
        ) {
            self.id = id
            self.labels = labels
            self.kernelPath = kernelPath
            self.agentVersion = agentVersion
            self.connected = connected
            self.firstSeenAt = firstSeenAt
            self.lastSeenAt = lastSeenAt
            self.rollouts = rollouts
        }
    }

    public struct CreateRollout: Codable, Sendable, Equatable {
        /// The name agents serve the model under (Open Inference Protocol).
        public var modelName: String
        /// sha256 of a pushed model each.
        public var reference: String
        public var candidate: String
        /// Labels an agent must carry; omitted or empty targets every agent.
        public var target: [String: String]?
        /// Percentages of the target; default [5, 25, 100].
        public var stages: [Int]?
        public var samplingRate: Double?
        public var windowSize: Int?
        public var windowMaxAgeMs: Int?
        /// Only agents of this QuantFleet release or later (MAJOR.MINOR.PATCH); omitted: any.
        public var minimumAgentVersion: String?

        public init(
            modelName: String, reference: String, candidate: String, target: [String: String]? = nil,
            stages: [Int]? = nil, samplingRate: Double? = nil, windowSize: Int? = nil, windowMaxAgeMs: Int? = nil,
            minimumAgentVersion: String? = nil
        ) {
            self.modelName = modelName
            self.reference = reference
            self.candidate = candidate
            self.target = target
            self.stages = stages
            self.samplingRate = samplingRate
            self.windowSize = windowSize
            self.windowMaxAgeMs = windowMaxAgeMs
            self.minimumAgentVersion = minimumAgentVersion
        }
    }

    /// The body of start, pause, resume, abort and promote. The reason is recorded with the operator.
    public struct Action: Codable, Sendable, Equatable {
        public var reason: String?
        /// promote only: promote now, whatever the current stage's evidence says.
        public var force: Bool?

        public init(reason: String? = nil, force: Bool? = nil) {
            self.reason = reason
            self.force = force
        }
    }

    public struct Member: Codable, Sendable, Equatable {
        public var agentID: String
        /// The stage the agent joined in.
        public var stage: Int

        public init(agentID: String, stage: Int) {
            self.agentID = agentID
            self.stage = stage
        }
    }

    public struct Decision: Codable, Sendable, Equatable {
        public var stage: Int?
        public var outcome: String
        public var metric: String
        public var n: Int
        public var statistic: Double
        public var lowerBound: Double
        public var upperBound: Double
        public var confidence: Double
        public var policyVersion: String
        public var decidedAt: Date
        /// Why, in words; the policy's bands the bounds were held against.
        public var reason: String?
        public var shipBelow: Double?
        public var stayFP16Above: Double?
        /// The slices judged beside the whole, each with its own bounds and outcome.
        public var slices: [SliceDecision]?

        public init(
            stage: Int?, outcome: String, metric: String, n: Int, statistic: Double, lowerBound: Double,
            upperBound: Double, confidence: Double, policyVersion: String, decidedAt: Date, reason: String? = nil,
            shipBelow: Double? = nil, stayFP16Above: Double? = nil, slices: [SliceDecision]? = nil
        ) {
            self.stage = stage
            self.outcome = outcome
            self.metric = metric
            self.n = n
            self.statistic = statistic
            self.lowerBound = lowerBound
            self.upperBound = upperBound
            self.confidence = confidence
            self.policyVersion = policyVersion
            self.decidedAt = decidedAt
            self.reason = reason
            self.shipBelow = shipBelow
            self.stayFP16Above = stayFP16Above
            self.slices = slices
        }
    }

    /// One slice of an evaluation, e.g. "class 3" or "device-class pi5".
    public struct SliceDecision: Codable, Sendable, Equatable {
        public var slice: String
        public var outcome: String
        public var metric: String
        public var n: Int
        public var statistic: Double
        public var lowerBound: Double
        public var upperBound: Double

        public init(slice: String, outcome: String, metric: String, n: Int, statistic: Double, lowerBound: Double, upperBound: Double) {
            self.slice = slice
            self.outcome = outcome
            self.metric = metric
            self.n = n
            self.statistic = statistic
            self.lowerBound = lowerBound
            self.upperBound = upperBound
        }
    }

    public struct Event: Codable, Sendable, Equatable {
        public var at: Date
        public var actor: String
        public var action: String
        public var stage: Int?
        public var reason: String

        public init(at: Date, actor: String, action: String, stage: Int?, reason: String) {
            self.at = at
            self.actor = actor
            self.action = action
            self.stage = stage
            self.reason = reason
        }
    }

    public struct Rollout: Codable, Sendable, Equatable {
        public var id: String
        public var modelName: String
        public var reference: String
        public var candidate: String
        /// When the candidate's answer differs materially from the reference's (its registered task), in words.
        public var task: String?
        /// created, running, paused, held, promoted, rolled-back, aborted; "shadowing" or "decided"
        /// for a rollout opened from the coordinator's configuration file.
        public var state: String
        public var outcome: String?
        public var stage: Int?
        public var stages: [Int]?
        public var target: [String: String]?
        public var minimumAgentVersion: String?
        public var createdBy: String?
        public var members: [Member]
        public var decision: Decision?
        /// The latest evaluation of each stage, first stage first (the last is `decision`).
        public var stageDecisions: [Decision]?
        public var events: [Event]

        public init(
            id: String, modelName: String, reference: String, candidate: String, task: String? = nil, state: String, outcome: String?,
            stage: Int?, stages: [Int]?, target: [String: String]?, minimumAgentVersion: String? = nil, createdBy: String?,
            members: [Member], decision: Decision?, stageDecisions: [Decision]? = nil, events: [Event]
        ) {
            self.id = id
            self.modelName = modelName
            self.reference = reference
            self.candidate = candidate
            self.task = task
            self.state = state
            self.outcome = outcome
            self.stage = stage
            self.stages = stages
            self.target = target
            self.minimumAgentVersion = minimumAgentVersion
            self.createdBy = createdBy
            self.members = members
            self.decision = decision
            self.stageDecisions = stageDecisions
            self.events = events
        }
    }

    /// Hummingbird's error body: `{"error": {"message": "..."}}`.
    public struct ErrorBody: Codable, Sendable {
        public struct Detail: Codable, Sendable {
            public var message: String
        }

        public var error: Detail
    }
}
