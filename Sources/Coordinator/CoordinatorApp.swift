import DaemonSupport
import FleetProtocol
import Hummingbird
import Ledger
import Logging
import ServiceLifecycle
import ShadowEval

/// Builds the coordinator's ServiceGroup without running it, so tests can build the daemon too.
public enum CoordinatorApp {
    public static func build(configuration: CoordinatorConfiguration, logger: Logger) async throws -> ServiceGroup {
        // Each agent is a file descriptor: the soft limit (often 1,024) would refuse agents long before the hard one.
        let files = FileLimit.raiseSoftToHard()
        if let warning = files.warning(connections: configuration.maxAgents, role: "max-agents") {
            logger.warning("open-files limit too low for max-agents", metadata: ["warning": "\(warning)"])
        }
        let policy: Policy = try ConfigurationFile.decode(configuration.policy)
        try policy.validate()
        let ledgerLocation = try configuration.ledgerLocation
        let ledger = try Ledger(location: ledgerLocation, logger: logger)
        let store = try ModelStore(root: configuration.modelStore)
        let metrics = CoordinatorMetrics()
        let settings = RolloutController.Settings(
            signingKey: try configuration.signingKey.map(ManifestSigning.privateKey(pemFile:)),
            referenceResidentMillis: configuration.referenceResidentMillis,
            assignmentLifetime: .milliseconds(configuration.assignmentLifetimeMillis))
        let controller = RolloutController(ledger: ledger, store: store, policy: policy, settings: settings, metrics: metrics, logger: logger)
        if let rollout = configuration.rollout {
            try await controller.open(rollout)
        }
        let connections = AgentConnections(replacementInterval: .milliseconds(configuration.agentReplacementIntervalMillis))
        let reachability = LedgerReachability(logger: logger, gauge: metrics.ledgerReachable) { connections.closeAll() }
        // The first claim before any agent connects: a lone coordinator decides from its first window.
        let lease = ControllerLease(
            controller: controller, reachability: reachability, holder: ControllerLease.holder(port: configuration.listen.port),
            adminURL: configuration.admin.map(ControllerLease.adminURL))
        await lease.claim()
        let writer = LedgerWriter(
            ledger: ledger, controller: controller, minimumCommitInterval: .milliseconds(configuration.ledgerCommitIntervalMillis),
            metrics: metrics, reachability: reachability, logger: logger)
        let presence = AgentPresence()
        let tls = try DaemonTLS(configuration.tls, logger: logger)
        let listener = AgentListener(
            configuration: configuration, tls: try tls.serverContext(), verification: tls.verification,
            writer: writer, presence: presence, connections: connections, reachability: reachability,
            controller: controller, store: store,
            slots: TransferSlots(limit: configuration.maxConcurrentTransfers, metrics: metrics), metrics: metrics, logger: logger)
        // Started first, stopped last: the listener's sessions hand them sightings and windows.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = tls.services(logger: logger) + [
            .init(service: PresenceFlusher(
                presence: presence, writer: writer, interval: .milliseconds(configuration.heartbeatIntervalMillis), logger: logger)),
        ]
        services.append(.init(service: lease))
        services.append(.init(service: AssignmentChangeListener(ledger: ledger, broadcast: controller.broadcast)))
        if let tick = controller.evaluationTick {
            services.append(.init(service: EvaluationTimer(controller: controller, tick: tick)))
        }
        if settings.signingKey != nil {
            services.append(.init(service: AssignmentRenewal(controller: controller)))
        }
        if let days = configuration.ledgerRetentionDays {
            services.append(.init(service: LedgerRetention(ledger: ledger, days: days, interval: .seconds(3600), metrics: metrics, logger: logger)))
        }
        services.append(.init(service: listener))
        if let admin = configuration.admin {
            var adminLogger = logger
            adminLogger[metadataKey: "service"] = "admin"
            services.append(.init(service: try buildAdminApplication(
                listen: admin, tls: tls, ledger: ledger, controller: controller, presence: presence,
                stagingDirectory: store.root.appendingPathComponent("uploads"), logger: adminLogger)))
        }
        if let listen = configuration.metrics {
            let router = Router()
            MetricsEndpoint.register(metrics.registry, on: router)
            services.append(.init(service: Application(
                router: router, configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "quantfleet-metrics"),
                logger: logger)))
        }
        logger.info("coordinator ready", metadata: [
            "ledger": "\(ledgerLocation)", "policy": "\(policy.version)", "store": "\(configuration.modelStore)",
            "admin": "\(configuration.admin.map { "\($0.host):\($0.port)" } ?? "off")",
            "metrics": "\(configuration.metrics.map { "\($0.host):\($0.port)" } ?? "off")",
            "signing": "\(configuration.signingKey == nil ? "off" : "ed25519")",
            "open_files": "\(files.soft)", "max_agents": "\(configuration.maxAgents)",
            "crl": "\(configuration.tls.crl ?? "none")",
        ])
        return ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    }
}
