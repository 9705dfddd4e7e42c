import DaemonSupport
import FleetProtocol
import Ledger
import ShadowEval

extension WindowRecord {
    /// A received window, keyed by the agent id from the TLS certificate (never from the message).
    init(agentID: String, window: ShadowWindow) {
        self.init(
            agentID: agentID, assignmentID: window.assignmentID, sequence: Int64(window.sequence),
            kernelPath: window.kernelPath, summary: WindowSummary(window),
            agreementByClass: window.agreementByClass, labelsByClass: window.labelsByClass,
            referenceMemoryBytes: window.referenceMemoryBytes > 0 ? Int(window.referenceMemoryBytes) : nil,
            candidateMemoryBytes: window.candidateMemoryBytes > 0 ? Int(window.candidateMemoryBytes) : nil,
            floor: AgreementCounts(samples: Int(window.floorSamples), agreements: Int(window.floorAgreements)),
            measures: window.measures, isLabelDelta: window.labelDelta)
    }
}
