import FleetProtocol
import ShadowEval

/// Task kinds as they travel in assignments.
extension TaskSpec {
    public init(_ kind: TaskKind) {
        self.init()
        switch kind {
        case .classification(let rule):
            self.kind = .classification
            maxProbabilityShift = rule.maximumProbabilityShift ?? 0
        case .regression(let rule):
            self.kind = .regression
            absoluteTolerance = rule.absolute
            relativeTolerance = rule.relative
        case .embedding(let rule):
            self.kind = .embedding
            minCosine = rule.minimumCosine
        }
    }
}

extension TaskKind {
    /// The task an assignment names, checked like a registration (a zero probability shift means
    /// top-1 only, as proto3 cannot tell zero from absent).
    public init(_ spec: TaskSpec) throws(RegistrationError) {
        switch spec.kind {
        case .classification:
            try self.init(name: "classification", maximumProbabilityShift: spec.maxProbabilityShift > 0 ? spec.maxProbabilityShift : nil)
        case .regression:
            try self.init(name: "regression", absoluteTolerance: spec.absoluteTolerance, relativeTolerance: spec.relativeTolerance)
        case .embedding:
            try self.init(name: "embedding", minimumCosine: spec.minCosine)
        case .UNRECOGNIZED(let value):
            throw .unknownKind("wire kind \(value)")
        }
    }
}
