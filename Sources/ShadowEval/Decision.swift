/// What the policy says to do with a rollout.
public enum Outcome: String, Sendable, Codable, CaseIterable {
    case ship
    case needsQAT = "needs-qat"
    case stayFP16 = "stay-fp16"
    case collecting

    /// True for outcomes that end the shadowing of a rollout.
    public var isFinal: Bool { self != .collecting }
}

/// One evaluation of a rollout's evidence, with everything needed to audit it later.
public struct Decision: Sendable, Equatable, Codable {
    public var outcome: Outcome
    /// Which evidence the bounds are about; one of `DecisionMetric`'s raw values.
    public var metric: String
    /// Samples behind the bounds: labelled samples for the labelled metric, paired samples otherwise.
    public var n: Int
    /// Point estimate of the accuracy drop (a fraction).
    public var statistic: Double
    /// Anytime-valid confidence bounds on the drop at `confidence`.
    public var lowerBound: Double
    public var upperBound: Double
    public var confidence: Double
    public var policyVersion: String
    /// Why, in words: which bound cleared (or did not clear) which threshold. Empty for decisions
    /// recorded before reasons existed.
    public var reason: String
    /// The policy's bands the bounds were held against (fractions); nil for decisions recorded
    /// before the ledger kept them.
    public var shipBelow: Double?
    public var stayFP16Above: Double?
    /// The confidence sequence behind the bounds; nil for decisions recorded before the ledger kept
    /// it, which were all beta-binomial.
    public var boundMethod: BoundMethod?

    public init(
        outcome: Outcome, metric: String, n: Int, statistic: Double,
        lowerBound: Double, upperBound: Double, confidence: Double, policyVersion: String, reason: String = "",
        shipBelow: Double? = nil, stayFP16Above: Double? = nil, boundMethod: BoundMethod? = nil
    ) {
        self.outcome = outcome
        self.metric = metric
        self.n = n
        self.statistic = statistic
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        self.confidence = confidence
        self.policyVersion = policyVersion
        self.reason = reason
        self.shipBelow = shipBelow
        self.stayFP16Above = stayFP16Above
        self.boundMethod = boundMethod
    }
}

/// The evidence a decision can rest on.
public enum DecisionMetric: String, Sendable {
    /// Paired accuracy drop on labelled samples: P(ref right, cand wrong) - P(cand right, ref wrong).
    case labelledAccuracyDrop = "labelled-accuracy-drop"
    /// Rate of materially different answers, as the model's task defines them (classification:
    /// top-1 differs, an upper bound on the accuracy drop; regression: beyond the tolerance;
    /// embeddings: cosine below the floor).
    case disagreement
    /// The disagreement rate minus the reference's with itself on another kernel path.
    case excessDisagreement = "excess-disagreement"
}
