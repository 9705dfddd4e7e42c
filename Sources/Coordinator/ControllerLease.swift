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
    let holder: String

    /// Who this coordinator is among those sharing the ledger: its host, port and process, so that a
    /// restarted process starts a term of its own rather than continuing its predecessor's.
    static func holder(port: Int) -> String {
        "\(ProcessInfo.processInfo.hostName):\(port)/\(getpid())"
    }

    func run() async throws {
        await repeatUntilShutdown(every: Self.renewalInterval) { [controller, holder] in
            await controller.claimTerm(holder: holder, lasting: Self.termLength)
        }
    }
}
