import DaemonSupport
import ServiceLifecycle

/// Wakes every session a few times per signed-assignment lifetime, so each sends its agent a renewed
/// signature once the one it sent has passed half its lifetime: connected agents never hold expired
/// metadata, and only an agent cut off from the coordinator does.
struct AssignmentRenewal: Service {
    let controller: RolloutController

    func run() async throws {
        await repeatUntilShutdown(every: controller.settings.assignmentLifetime / 4) { [controller] in
            controller.broadcast.announce()
        }
    }
}
