import DaemonSupport
import FleetProtocol
import Ledger
import Logging
import ServiceLifecycle
import ShadowEval

/// Builds the coordinator's ServiceGroup without running it, so tests can build the daemon too.
public enum CoordinatorApp {
    public static func build(configuration: CoordinatorConfiguration, logger: Logger) async throws -> ServiceGroup {
        let policy: Policy = try ConfigurationFile.decode(configuration.policy)
        try policy.validate()
        let ledger = try Ledger(path: configuration.ledger)
        let store = try ModelStore(root: configuration.modelStore)
        let controller = RolloutController(ledger: ledger, store: store, policy: policy, logger: logger)
        if let rollout = configuration.rollout {
            try await controller.open(rollout)
        }
        let listener = AgentListener(
            configuration: configuration, tls: try FleetTLS.serverContext(configuration.tls),
            ledger: ledger, controller: controller, store: store, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: listener)]
        if let admin = configuration.admin {
            var adminLogger = logger
            adminLogger[metadataKey: "service"] = "admin"
            services.append(.init(service: try buildAdminApplication(
                listen: admin, tls: configuration.tls, ledger: ledger, controller: controller,
                stagingDirectory: store.root.appendingPathComponent("uploads"), logger: adminLogger)))
        }
        logger.info("coordinator ready", metadata: [
            "ledger": "\(configuration.ledger)", "policy": "\(policy.version)", "store": "\(configuration.modelStore)",
            "admin": "\(configuration.admin.map { "\($0.host):\($0.port)" } ?? "off")",
        ])
        return ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    }
}
