import DaemonSupport
import Prometheus

/// The agent's Prometheus metrics, served at `/metrics` beside the inference routes.
struct AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let requests: Counter
    let primaryLatency: DurationHistogram
    let shadowLatency: DurationHistogram
    let shadowDrops: Counter
    let windowsSealed: Counter
    let spoolWriteFailures: Counter
    let windowsAwaitingSpool: Gauge
    let windowsGivenUp: Counter
    let spoolWindowsMerged: Counter
    let spoolPendingBytes: Gauge
    let servingSwitch: DurationHistogram
    let modelBytesReceived: Counter
    let modelsRejected: Counter
    let modelBytesResident: Gauge
    let modelsServed: Gauge
    let assignmentsRefused: Counter
    let coordinatorConnected: Gauge
    let labelsAccepted: Counter
    let labelsNotAwaited: Counter
    let labelsDropped: Counter

    init() {
        func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            .quantfleet("agent", metric, unit: unit, help: help)
        }
        let latency = name("inference_latency", unit: "seconds", "Inference latency per request, by model role.")
        requests = registry.makeCounter(descriptor: name("requests", unit: "total", "Requests answered by the primary model."))
        primaryLatency = registry.makeDurationHistogram(
            descriptor: latency, labels: [("model", "primary")], buckets: MetricsEndpoint.latencyBuckets)
        shadowLatency = registry.makeDurationHistogram(
            descriptor: latency, labels: [("model", "shadow")], buckets: MetricsEndpoint.latencyBuckets)
        shadowDrops = registry.makeCounter(descriptor: name(
            "shadow_queue_drops", unit: "total", "Sampled requests not shadowed because the shadow queue was full."))
        windowsSealed = registry.makeCounter(descriptor: name("windows_sealed", unit: "total", "Shadow windows sealed into the spool."))
        spoolWriteFailures = registry.makeCounter(descriptor: name(
            "spool_write_failures", unit: "total", "Attempts to store a sealed window that the spool refused (a full disk, an unwritable file)."))
        windowsAwaitingSpool = registry.makeGauge(descriptor: name(
            "windows_awaiting_spool", "Sealed windows held in memory until the spool can store them."))
        windowsGivenUp = registry.makeCounter(descriptor: name(
            "windows_given_up", unit: "total", "Sealed windows given up because the spool refused them for longer than the backlog holds."))
        spoolWindowsMerged = registry.makeCounter(descriptor: name(
            "spool_windows_merged", unit: "total",
            "Unsent windows merged into older ones because the spool passed spool-max-bytes: counts kept, their spread over time lost."))
        spoolPendingBytes = registry.makeGauge(descriptor: name(
            "spool_pending_bytes", "Bytes of sealed windows in the spool waiting for the coordinator's ack."))
        servingSwitch = registry.makeDurationHistogram(
            descriptor: name(
                "serving_switch", unit: "seconds",
                "From a promotion or rollback assignment's acceptance (signature checked, version stored) to the new model answering."),
            buckets: MetricsEndpoint.latencyBuckets)
        modelBytesReceived = registry.makeCounter(descriptor: name(
            "model_bytes_received", unit: "total", "Model bytes downloaded and verified chunk by chunk."))
        modelsRejected = registry.makeCounter(descriptor: name(
            "models_rejected", unit: "total",
            "Models refused: a manifest that does not verify, content that never matches, or an assignment over model-memory-budget-bytes."))
        modelBytesResident = registry.makeGauge(descriptor: name(
            "model_bytes_resident", "Bytes the loaded models of every model name hold (what model-memory-budget-bytes bounds)."))
        modelsServed = registry.makeGauge(descriptor: name("models_served", "Model names the agent serves."))
        assignmentsRefused = registry.makeCounter(descriptor: name(
            "assignments_refused", unit: "total",
            "Assignments refused for their signed metadata (signature, key, expiry, older version), and downloads stopped at expiry."))
        coordinatorConnected = registry.makeGauge(descriptor: name(
            "coordinator_connected", "1 while a session with the coordinator is up."))
        labelsAccepted = registry.makeCounter(descriptor: name(
            "labels_accepted", unit: "total", "Late labels (/v2/labels) matched to a shadowed request's outcome and sent as evidence."))
        labelsNotAwaited = registry.makeCounter(descriptor: name(
            "labels_not_awaited", unit: "total", "Late labels for which no outcome was waiting (unknown, labelled already, expired, or not sealed yet)."))
        labelsDropped = registry.makeCounter(descriptor: name(
            "labels_dropped", unit: "total",
            "Outcomes given up before their label came: past label-horizon-ms, or the oldest beyond max-awaiting-labels."))
    }
}
