import Foundation
import ShadowEval

/// A stored evaluation of a rollout.
public struct DecisionRecord: Sendable, Equatable {
    /// Row id; increases with every evaluation.
    public var id: Int64
    public var rolloutID: String
    public var decidedAt: Date
    /// The stage it judged; nil for a rollout without stages.
    public var stage: Int?
    public var decision: Decision
    /// The slices judged beside the whole (policy `slices:`), each with its own decision.
    public var slices: [SliceDecision]

    public init(id: Int64, rolloutID: String, decidedAt: Date, stage: Int?, decision: Decision, slices: [SliceDecision] = []) {
        self.id = id
        self.rolloutID = rolloutID
        self.decidedAt = decidedAt
        self.stage = stage
        self.decision = decision
        self.slices = slices
    }
}

/// One judged slice of an evaluation, as `decisions.slices` stores it (JSON).
public struct SliceDecision: Sendable, Equatable, Codable {
    public var slice: SliceKey
    public var decision: Decision

    public init(slice: SliceKey, decision: Decision) {
        self.slice = slice
        self.decision = decision
    }

    /// In a stable order: by dimension, then value.
    static func list(_ slices: [SliceKey: Decision]) -> [SliceDecision] {
        slices.sorted { $0.key.description < $1.key.description }.map { SliceDecision(slice: $0.key, decision: $0.value) }
    }
}
