import DaemonSupport
import FleetProtocol
import Prometheus
import ShadowEval

/// The coordinator's Prometheus metrics, served at `/metrics` on the `metrics:` listener.
public struct CoordinatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let agentsConnected: Gauge
    let windowsIngested: Counter
    let windowBatches: Counter
    let helloBatches: Counter
    let windowsRefused: Counter
    let modelBytesPushed: Counter
    let transfersActive: Gauge
    let transfersWaiting: Gauge
    let modelsRejected: Counter
    let agentReplacements: Counter
    let agentReplacementsRefused: Counter
    let controllerTerm: Gauge
    let ledgerReachable: Gauge
    let windowsRolledUp: Counter
    let guardBreaks: Counter
    let rollouts: RolloutGauges
    private let decisions: [Outcome: Counter]
    private let handshakesDeferred: [HandshakeDeferral.Limit: Counter]
    private let agentLimitsExceeded: [AgentLimits.Limit: Counter]

    public init() {
        func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            .quantfleet("coordinator", metric, unit: unit, help: help)
        }
        agentsConnected = registry.makeGauge(descriptor: name("agents_connected", "Agents with an open session."))
        windowsIngested = registry.makeCounter(descriptor: name(
            "windows_ingested", unit: "total", "Shadow windows stored in the ledger (duplicates not counted)."))
        windowBatches = registry.makeCounter(descriptor: name(
            "window_batches", unit: "total", "Ledger transactions that stored windows: windows_ingested / this is the mean batch."))
        helloBatches = registry.makeCounter(descriptor: name(
            "hello_batches", unit: "total", "Ledger transactions that recorded agents' Hellos (many at once while a fleet reconnects)."))
        windowsRefused = registry.makeCounter(descriptor: name(
            "windows_refused", unit: "total", "Shadow windows refused because their agent is not a member of the assignment's stage."))
        modelBytesPushed = registry.makeCounter(descriptor: name("model_bytes_pushed", unit: "total", "Model bytes sent to agents."))
        transfersActive = registry.makeGauge(descriptor: name("model_transfers_active", "Model transfers streaming now."))
        transfersWaiting = registry.makeGauge(descriptor: name(
            "model_transfers_waiting", "Model transfers waiting for a slot (max-concurrent-transfers)."))
        modelsRejected = registry.makeCounter(descriptor: name(
            "models_rejected", unit: "total", "Models agents refused (bad signature or content)."))
        agentReplacements = registry.makeCounter(descriptor: name(
            "agent_replacements", unit: "total", "Connections that replaced an older connection with the same agent id."))
        agentReplacementsRefused = registry.makeCounter(descriptor: name(
            "agent_replacements_refused", unit: "total",
            "Connections refused because their agent id was replaced too recently (agent-replacement-interval-ms)."))
        controllerTerm = registry.makeGauge(descriptor: name(
            "controller_term", "The fencing token of the controller term this coordinator holds; 0 while another coordinator holds it."))
        ledgerReachable = registry.makeGauge(descriptor: name(
            "ledger_reachable", "1 while this coordinator reaches its ledger; 0 once a write found it out of reach, until one succeeds."))
        windowsRolledUp = registry.makeCounter(descriptor: name(
            "windows_rolled_up", unit: "total", "Windows merged into per-(agent, day) rows by ledger retention (ledger-retention-days)."))
        guardBreaks = registry.makeCounter(descriptor: name(
            "guard_breaks", unit: "total", "Guards (policy max-latency-ratio, max-memory-ratio) found broken by an evaluation; each rolls its rollout back."))
        rollouts = RolloutGauges(registry: registry)
        let decided = name("decisions", unit: "total", "Policy evaluations, by outcome.")
        var decisions: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            decisions[outcome] = registry.makeCounter(descriptor: decided, labels: [("outcome", outcome.rawValue)])
        }
        self.decisions = decisions
        let deferred = name(
            "handshakes_deferred", unit: "total",
            "Agent connections accepted while the handshake limits were reached, whose TLS handshake waited, by limit.")
        var handshakesDeferred: [HandshakeDeferral.Limit: Counter] = [:]
        for limit in HandshakeDeferral.Limit.allCases {
            handshakesDeferred[limit] = registry.makeCounter(descriptor: deferred, labels: [("limit", limit.rawValue)])
        }
        self.handshakesDeferred = handshakesDeferred
        let limited = name(
            "agent_limit_exceeded", unit: "total",
            "Frames that met a per-agent limit (agent-limits), by limit; that agent's frames are then read more slowly.")
        var agentLimitsExceeded: [AgentLimits.Limit: Counter] = [:]
        for limit in AgentLimits.Limit.allCases {
            agentLimitsExceeded[limit] = registry.makeCounter(descriptor: limited, labels: [("limit", limit.rawValue)])
        }
        self.agentLimitsExceeded = agentLimitsExceeded
    }

    func exceeded(_ limit: AgentLimits.Limit) {
        agentLimitsExceeded[limit]?.increment()
    }

    /// An evaluation of `stage` (0-based) of a rollout, and the guards it found broken.
    func decided(_ decision: Decision, rolloutID: String, stage: Int, brokenGuards: Int) {
        decisions[decision.outcome]?.increment()
        guardBreaks.increment(by: Int64(brokenGuards))
        rollouts.record(decision, rolloutID: rolloutID, stage: stage)
    }

    func deferred(_ handshake: HandshakeDeferral) {
        handshakesDeferred[handshake.limit]?.increment()
    }
}
