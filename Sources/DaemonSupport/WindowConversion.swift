import FleetProtocol
import ShadowEval

/// Shadow windows as the agent aggregates them (ShadowEval) and as they travel (FleetProtocol).
extension ShadowWindow {
    public init(_ summary: WindowSummary, assignmentID: String, sequence: UInt64, kernelPath: String) {
        self.init()
        self.assignmentID = assignmentID
        self.sequence = sequence
        self.kernelPath = kernelPath
        startedAtMs = UInt64(summary.startedAtMillis)
        endedAtMs = UInt64(summary.endedAtMillis)
        count = UInt32(summary.count)
        top1Agreements = UInt32(summary.top1Agreements)
        klDivergenceSum = summary.klDivergenceSum
        maxAbsDiff = summary.maxAbsDiff
        labelled = UInt32(summary.labelled)
        referenceCorrect = UInt32(summary.referenceCorrect)
        candidateCorrect = UInt32(summary.candidateCorrect)
        referenceOnlyCorrect = UInt32(summary.referenceOnlyCorrect)
        candidateOnlyCorrect = UInt32(summary.candidateOnlyCorrect)
        referenceLatencyUsSum = UInt64(summary.referenceLatencyMicrosSum)
        candidateLatencyUsSum = UInt64(summary.candidateLatencyMicrosSum)
        shadowDrops = UInt32(summary.shadowDrops)
    }
}

extension WindowSummary {
    public init(_ window: ShadowWindow) {
        self.init(
            count: Int(window.count), top1Agreements: Int(window.top1Agreements),
            klDivergenceSum: window.klDivergenceSum, maxAbsDiff: window.maxAbsDiff,
            labelled: Int(window.labelled), referenceCorrect: Int(window.referenceCorrect),
            candidateCorrect: Int(window.candidateCorrect), referenceOnlyCorrect: Int(window.referenceOnlyCorrect),
            candidateOnlyCorrect: Int(window.candidateOnlyCorrect),
            referenceLatencyMicrosSum: Int(window.referenceLatencyUsSum),
            candidateLatencyMicrosSum: Int(window.candidateLatencyUsSum), shadowDrops: Int(window.shadowDrops),
            startedAtMillis: Int64(window.startedAtMs), endedAtMillis: Int64(window.endedAtMs))
    }
}
