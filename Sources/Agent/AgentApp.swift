import DaemonSupport
import FleetProtocol
import Foundation
import Hummingbird
import Inference
import Logging
import ServiceLifecycle

/// Builds the agent's ServiceGroup without running it: the coordinator link, the shadow runner and
/// the Open Inference Protocol servers (REST with `/metrics`, and gRPC when configured), sharing the
/// serving state, the shadow queues, the spool and the metrics.
public enum AgentApp {
    public static let version = "0.4.0"

    /// `releaseFreedMemory` hands freed heap memory back to the system after each model load (the
    /// executable's choice, as it chose to keep freed memory; a no-op by default). `clock` is the
    /// calendar time the agent acts on (certificates, signed-metadata expiry, window times).
    public static func build(
        configuration: AgentConfiguration, logger: Logger, releaseFreedMemory: @escaping @Sendable () -> Void = {},
        clock: WallClock = .system
    ) throws -> ServiceGroup {
        let state = ServingState()
        let queues = ShadowQueues(capacity: configuration.shadowQueueCapacity)
        let notifier = WindowNotifier()
        let spool = try WindowSpool(path: "\(configuration.dataDir)/spool.sqlite", maxPendingBytes: configuration.spoolMaxBytes)
        let cache = try ModelCache(directory: "\(configuration.dataDir)/models", logger: logger)
        let metrics = AgentMetrics()
        let gate = SignedAssignmentGate(
            keys: try TrustedSigningKeys(pemFiles: configuration.signingKeyFiles),
            acceptedVersions: try AcceptedVersions(
                directory: "\(configuration.dataDir)/accepted-assignment-versions",
                floor: try HighWaterMarkFile(path: "\(configuration.dataDir)/accepted-assignment-version").value),
            clock: clock)

        let tls = try DaemonTLS(configuration.tls, logger: logger, clock: clock)
        let link = CoordinatorLink(
            configuration: configuration, tls: try tls.clientContext(), verification: tls.verification,
            session: LinkSession(
                labels: configuration.labels, cache: cache, spool: spool, state: state, notifier: notifier,
                gate: gate, noiseFloorPath: Self.noiseFloorPath(configuration),
                memoryBudget: ModelMemoryBudget(bytes: configuration.modelMemoryBudgetBytes), metrics: metrics, logger: logger,
                releaseFreedMemory: releaseFreedMemory),
            logger: logger)
        let shadow = ShadowRunner(
            queues: queues, state: state, spool: spool, notifier: notifier, noiseFloorRate: configuration.noiseFloorRate,
            metrics: metrics, logger: logger, clock: clock, maxAwaitingLabels: configuration.maxAwaitingLabels)

        let inference = OpenInferenceService(state: state, queues: queues, metrics: metrics)
        let router = Router()
        InferenceRoutes(service: inference).register(on: router)
        let labels = LateLabelIntake(
            spool: spool, notifier: notifier, horizonMillis: configuration.labelHorizonMillis, metrics: metrics, clock: clock)
        LabelRoutes(intake: labels).register(on: router)
        let server = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.inference.host, port: configuration.inference.port),
                serverName: "quantfleet-agent"),
            logger: logger)

        let grpc = configuration.inference.grpcPort.map { port in
            GRPCInferenceServer(
                services: [GRPCInferenceEndpoint(service: inference), GRPCLabelEndpoint(intake: labels)],
                host: configuration.inference.host, port: port, logger: logger)
        }

        return ServiceGroup(configuration: .init(
            services: tls.services(logger: logger) + [.init(service: link), .init(service: shadow), .init(service: server)]
                + (grpc.map { [.init(service: $0)] } ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    }

    /// The other float kernel path, for the noise floor: scalar beside AVX2 or AVX512 (which fuse multiply
    /// and add, so the two round differently). None when the CPU has only the scalar path.
    static func noiseFloorPath(_ configuration: AgentConfiguration) -> String? {
        guard configuration.noiseFloorRate > 0, InferenceSession.integerKernelPath != "scalar" else { return nil }
        return "scalar"
    }
}
