import Foundation
import GRDB
import ShadowEval

/// Where a rollout is in its life.
public enum RolloutStatus: String, Sendable, Codable {
    /// Agents are shadowing the candidate and evidence is accumulating.
    case shadowing
    /// A final outcome was recorded; no more decisions are taken.
    case decided
}

/// One attempt to move a model from its reference to a quantized candidate.
public struct RolloutRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "rollouts"

    public var id: String
    public var modelName: String
    public var referenceSHA256: String
    public var candidateSHA256: String
    /// Fraction of live requests the agents run through the candidate too.
    public var samplingRate: Double
    /// Paired samples per window an agent seals.
    public var windowSize: Int
    public var policyVersion: String
    public var status: RolloutStatus
    /// Set when the rollout is decided.
    public var outcome: Outcome?
    public var createdAt: Date
    public var decidedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id
        case modelName = "model_name"
        case referenceSHA256 = "reference_sha256"
        case candidateSHA256 = "candidate_sha256"
        case samplingRate = "sampling_rate"
        case windowSize = "window_size"
        case policyVersion = "policy_version"
        case status, outcome
        case createdAt = "created_at"
        case decidedAt = "decided_at"
    }
}
