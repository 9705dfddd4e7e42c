import ShadowEval

/// A sealed window as an agent delivers it. (agentID, assignmentID, sequence) identifies it, so a
/// window the agent resends after a lost acknowledgement is recognised and stored only once.
public struct WindowRecord: Sendable, Equatable {
    public var agentID: String
    public var assignmentID: String
    public var sequence: Int64
    /// The integer kernel path the agent ran the candidate on (e.g. "avx512-vnni").
    public var kernelPath: String
    public var summary: WindowSummary
    /// The window's samples by class: agreement by the reference's top-1 class, paired correctness
    /// by ground-truth class. Empty for task kinds without classes.
    public var agreementByClass: [Int: AgreementCounts]
    public var labelsByClass: [Int: PairedOutcomes]
    /// Resident bytes of each model on the agent; nil when not measured.
    public var referenceMemoryBytes: Int?
    public var candidateMemoryBytes: Int?
    /// The reference against itself on another kernel path: samples, and how many agreed.
    public var floor: AgreementCounts
    public var measures: WindowMeasures
    /// A late-label delta rather than a window: labels that arrived after their requests' window was
    /// sealed, as labelled counts (by class too) with no samples of their own. It takes a sequence
    /// from its agent's numbering like a window, so it is stored exactly once, and counts in the
    /// labelled evidence but not as a window (`windows_merged` 0).
    public var isLabelDelta: Bool

    /// The windows the stored row counts as: 1, or 0 for a late-label delta.
    var windowsCounted: Int { isLabelDelta ? 0 : 1 }

    public init(
        agentID: String, assignmentID: String, sequence: Int64, kernelPath: String, summary: WindowSummary,
        agreementByClass: [Int: AgreementCounts] = [:], labelsByClass: [Int: PairedOutcomes] = [:],
        referenceMemoryBytes: Int? = nil, candidateMemoryBytes: Int? = nil, floor: AgreementCounts = AgreementCounts(),
        measures: WindowMeasures = WindowMeasures(), isLabelDelta: Bool = false
    ) {
        self.agentID = agentID
        self.assignmentID = assignmentID
        self.sequence = sequence
        self.kernelPath = kernelPath
        self.summary = summary
        self.agreementByClass = agreementByClass
        self.labelsByClass = labelsByClass
        self.referenceMemoryBytes = referenceMemoryBytes
        self.candidateMemoryBytes = candidateMemoryBytes
        self.floor = floor
        self.measures = measures
        self.isLabelDelta = isLabelDelta
    }
}

/// What ingesting one window did.
public enum IngestResult: Sendable, Equatable {
    case stored
    /// The window was already in the ledger; it still counts as acknowledged.
    case duplicate
}
