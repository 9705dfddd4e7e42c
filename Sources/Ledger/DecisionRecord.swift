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
}
