import Foundation
import ShadowEval

/// What a load run measured, and the text `quantfleet loadgen` prints.
public struct LoadResult: Sendable {
    public struct Timeline: Sendable {
        public var started: Date
        /// Every agent had its first Welcome; the measurements then.
        public var allConnected: Date?
        public var atAllConnected: LoadMeasurements.Snapshot?
        /// Windows stopped being made; the measurements then.
        public var windowsEnded: Date?
        public var atWindowsEnded: LoadMeasurements.Snapshot?
        /// Every window acked, or the drain timed out with `unackedAtEnd` left.
        public var drained: Date?
        public var atDrained: LoadMeasurements.Snapshot?
        public var unackedAtEnd = 0
    }

    public let plan: LoadPlan
    public let prepared: LoadGenerator.PreparedAgents
    public let timeline: Timeline
    public let measurements: LoadMeasurements.Snapshot

    /// Handshakes completed per second while the fleet first connected (first attempt to last first Welcome).
    public var handshakesPerSecond: Double? {
        guard let first = measurements.firstAttemptAt, let last = measurements.lastFirstWelcomeAt else { return nil }
        let seconds = first.duration(to: last).milliseconds / 1000
        return seconds > 0 ? Double(measurements.agentsEverConnected) / seconds : nil
    }

    /// Windows acked per second between the whole fleet being connected and the end of windows.
    public var sustainedWindowsPerSecond: Double? {
        guard let from = timeline.allConnected, let before = timeline.atAllConnected,
              let to = timeline.windowsEnded, let after = timeline.atWindowsEnded else { return nil }
        let seconds = to.timeIntervalSince(from)
        return seconds > 0 ? Double(after.windowsAcked - before.windowsAcked) / seconds : nil
    }

    public var expectedOutcome: Outcome { plan.evidence.expectedOutcome(shipBelow: shipBelow, stayFP16Above: stayFP16Above) }
    public var shipBelow = 0.01
    public var stayFP16Above = 0.03

    init(plan: LoadPlan, prepared: LoadGenerator.PreparedAgents, timeline: Timeline, measurements: LoadMeasurements.Snapshot) {
        self.plan = plan
        self.prepared = prepared
        self.timeline = timeline
        self.measurements = measurements
    }

    /// The decision the ledger recorded (set by the caller that can read it), beside the wire's.
    public var ledgerDecision: LedgerDecision?

    /// The decision seen against the one the true drop should bring. On the wire only a staged
    /// rollout's ship (PROMOTED) and stay-fp16 (ROLLED_BACK) reach agents; the ledger has every decision.
    public var observedOutcome: Outcome? { measurements.observedOutcome ?? ledgerDecision?.outcome }

    public var decisionLine: String {
        var seen: [String] = []
        if let wire = measurements.observedOutcome {
            let after = measurements.observedAt.flatMap { at in measurements.firstAttemptAt.map { $0.duration(to: at) } }
            seen.append("\(wire.rawValue) on the wire" + (after.map { String(format: " at +%.1f s", $0.milliseconds / 1000) } ?? ""))
        }
        if let ledger = ledgerDecision {
            seen.append("\(ledger.outcome.rawValue) in the ledger at n = \(ledger.samples)"
                + (ledger.millisAfterDecidingWindow.map { String(format: ", %.0f ms after its deciding window was stored", $0) } ?? ""))
        }
        let observed = seen.isEmpty ? "no final decision yet" : seen.joined(separator: "; ")
        let matches = observedOutcome.map { $0 == expectedOutcome ? "matches" : "DOES NOT MATCH" } ?? "not decided by the end of the run"
        return "decision: \(observed); expected \(expectedOutcome.rawValue) (true drop \(Self.percent(plan.evidence.trueDrop)), "
            + "\(plan.evidence.evidence.rawValue), bands \(Self.percent(shipBelow)) / \(Self.percent(stayFP16Above))): \(matches)"
    }

    public var lines: [String] {
        let m = measurements
        func ms(_ histogram: LogHistogram, _ q: Double) -> String { histogram.quantile(q).map { String(format: "%.1f", $0) } ?? "-" }
        var lines = [
            String(format: "certificates: %d agents, %d issued now, %d from the cache, %.2f s with TLS contexts",
                   plan.agents, prepared.issued, plan.agents - prepared.issued, prepared.elapsed.milliseconds / 1000),
            "connect: \(m.agentsEverConnected)/\(plan.agents) agents connected; time to first Welcome p50 \(ms(m.firstConnect, 0.5)) ms, "
                + "p99 \(ms(m.firstConnect, 0.99)) ms; \(m.connectAttempts) attempts, \(m.failedConnects) failed before Welcome",
            "handshakes: " + (handshakesPerSecond.map { String(format: "%.0f/s while the fleet connected", $0) } ?? "-")
                + (timeline.allConnected.map { String(format: ", all connected after %.1f s", $0.timeIntervalSince(timeline.started)) } ?? ""),
            "windows: \(m.windowsMade) made, \(m.windowsSent) sent (\(m.windowsResent) resent after reconnects), \(m.windowsAcked) acked, "
                + "\(m.duplicateAcks) acked again, \(timeline.unackedAtEnd) unacked at the end",
            "windows/s sustained (all connected to end of windows): "
                + (sustainedWindowsPerSecond.map { String(format: "%.0f", $0) } ?? "- (the fleet never connected in full before the end)"),
            "ack latency: p50 \(ms(m.ackLatencyMillis, 0.5)) ms, p99 \(ms(m.ackLatencyMillis, 0.99)) ms",
        ]
        if m.modelBytesReceived > 0 {
            lines.append(modelsLine)
        }
        for outage in m.outages + (m.currentOutage.map { [$0] } ?? []) {
            let back = outage.ended.map { String(format: "all back after %.1f s", outage.began.duration(to: $0).milliseconds / 1000) }
            lines.append("reconnect: connections fell to \(outage.lowest)/\(plan.agents); " + (back ?? "NOT all back by the end"))
        }
        if m.errorsFromCoordinator > 0 { lines.append("errors from the coordinator: \(m.errorsFromCoordinator)") }
        lines.append(decisionLine)
        return lines
    }

    /// Model fan-out: what arrived, and the total rate from the first request to the last file verified.
    var modelsLine: String {
        let m = measurements
        var line = String(format: "models: %.1f MB downloaded, %d files verified, %d corrupt", Double(m.modelBytesReceived) / 1e6,
                          m.modelsVerified, m.modelsCorrupt)
        if let first = m.firstModelRequestAt, let last = m.lastModelVerifiedAt, first < last {
            let seconds = first.duration(to: last).milliseconds / 1000
            line += String(format: "; %.0f MB/s over %.1f s from the first request to the last file verified",
                           Double(m.modelBytesReceived) / 1e6 / seconds, seconds)
        }
        return line
    }

    static func percent(_ fraction: Double) -> String { String(format: "%g %%", fraction * 100) }
}
