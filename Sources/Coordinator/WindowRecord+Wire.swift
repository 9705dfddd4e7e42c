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
            agreementByClass: window.agreementByClass, labelsByClass: window.labelsByClass)
    }
}
