import Hummingbird
import Prometheus

/// `GET /metrics` in the Prometheus text format, for a daemon's own registry (not the process-wide
/// swift-metrics bootstrap, so tests can build several daemons in one process).
public enum MetricsEndpoint {
    public static func register<Context: RequestContext>(_ registry: PrometheusCollectorRegistry, on router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    /// Latency buckets from 100 µs to 10 s, for inference and switch times alike.
    public static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]
}

extension MetricNameDescriptor {
    /// `quantfleet_<daemon>_<name>[_<unit>]`.
    public static func quantfleet(_ daemon: String, _ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "quantfleet", subsystem: daemon, metricName: name, unitName: unit, helpText: help)
    }
}
