import Foundation
import ShadowEval

/// A stored evaluation of a rollout.
public struct DecisionRecord: Sendable, Equatable {
    /// Row id; increases with every evaluation.
    public var id: Int64
    public var rolloutID: String
    public var decidedAt: Date
    public var decision: Decision
}
