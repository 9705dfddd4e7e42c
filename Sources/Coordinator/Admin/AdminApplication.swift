import DaemonSupport
import FleetProtocol
import Foundation
import Hummingbird
import HummingbirdTLS
import Ledger
import Logging

/// Builds the coordinator's admin API without running it: HTTPS with mutual TLS against the fleet
/// CA (the coordinator's own certificate), JSON endpoints (`AdminRoutes`), operators only
/// (`OperatorAuthentication`, which also refuses certificates the CRL revokes). A ServiceGroup member like the agent listener, so it shuts down
/// gracefully with the coordinator.
func buildAdminApplication(
    listen: CoordinatorConfiguration.Listen, tls: DaemonTLS, ledger: Ledger, controller: RolloutController, presence: AgentPresence,
    stagingDirectory: URL, logger: Logger
) throws -> some ApplicationProtocol {
    let router = Router(context: AdminRequestContext.self)
    router.add(middleware: OperatorAuthentication(verification: tls.verification))
    router.add(middleware: ControllerTermRedirect(controller: controller))
    AdminRoutes(ledger: ledger, controller: controller, presence: presence, stagingDirectory: stagingDirectory).register(on: router)
    return Application(
        router: router,
        server: try .tls(.http1(), tlsConfiguration: FleetTLS.serverConfiguration(tls.files, reloader: tls.reloader)),
        configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "quantfleet-coordinator"),
        logger: logger)
}
