import DaemonSupport
import ServiceLifecycle

/// Under an evaluation cadence with a time limit, looks every `tick` for stages whose windows have
/// waited long enough, so a stage whose agents fall quiet is still decided.
struct EvaluationTimer: Service {
    let controller: RolloutController
    let tick: Duration

    func run() async throws {
        await repeatUntilShutdown(every: tick) { [controller] in await controller.evaluateOverdue() }
    }
}
