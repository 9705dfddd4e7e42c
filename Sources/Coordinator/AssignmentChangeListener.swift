import Ledger
import ServiceLifecycle

/// Hears of assignment changes other coordinators sharing the ledger made, and has this one push
/// them to the agents connected to it.
struct AssignmentChangeListener: Service {
    let ledger: Ledger
    let broadcast: AssignmentBroadcast

    func run() async throws {
        try? await cancelWhenGracefulShutdown { [ledger, broadcast] in
            await ledger.listenForAssignmentChanges { broadcast.announce() }
        }
    }
}
