import DaemonSupport
import Foundation
import ServiceLifecycle

/// Keeps this coordinator in the running for the rollout controller's term (`Ledger+ControllerTerms`):
/// every second it renews the term it holds or, once another holder's term has expired (a killed or
/// cut-off coordinator), takes the next. Only the holder evaluates the policy and moves rollouts on;
/// every coordinator stores windows. A term lasts 5 s, so a SIGKILLed holder is replaced within 6 s.
struct ControllerLease: Service {
    static let termLength: Duration = .seconds(5)
    static let renewalInterval: Duration = .seconds(1)

    let controller: RolloutController
    let reachability: LedgerReachability
    let holder: String
    /// This coordinator's admin API, for the others to send operators to; nil without one.
    let adminURL: String?

    /// Who this coordinator is among those sharing the ledger: its host, port and process, so that a
    /// restarted process starts a term of its own rather than continuing its predecessor's.
    static func holder(port: Int) -> String {
        "\(ProcessInfo.processInfo.hostName):\(port)/\(getpid())"
    }

    /// Where operators reach this coordinator's admin API: by a DNS name, as its certificate names
    /// it (fleet certificates carry no IP addresses): `localhost` for a loopback listener, the
    /// configured host if it is a name, else the machine's host name.
    static func adminURL(_ admin: CoordinatorConfiguration.Listen) -> String {
        let host: String
        switch admin.host {
        case "127.0.0.1", "::1", "localhost": host = "localhost"
        case let name where name.contains(where: \.isLetter) && !name.contains(":"): host = name
        default: host = ProcessInfo.processInfo.hostName
        }
        return "https://\(host):\(admin.port)"
    }

    /// Also this coordinator's probe of its ledger: a claim that reaches it makes it reachable again.
    func claim() async {
        do {
            try await controller.claimTerm(holder: holder, adminURL: adminURL, lasting: Self.termLength)
            reachability.succeeded()
        } catch {
            reachability.failed(error)
        }
    }

    func run() async throws {
        await repeatUntilShutdown(every: Self.renewalInterval) { [self] in await claim() }
    }
}
