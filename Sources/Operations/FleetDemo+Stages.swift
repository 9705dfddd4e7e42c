import FleetProtocol
import Foundation
import Ledger

/// `quantfleet demo --stages`: the rollout goes through the admin API as an operator's would, each
/// stage gated by the policy on its own agents' evidence, and the demo prints the stage timeline.
extension FleetDemo {
    func runStages(
        _ stages: [Int], layout: FleetLayout, fleet: LocalFleet, agentURLs: [URL], reference: URL, candidate: URL,
        adminPort: Int
    ) async throws -> DecisionRecord {
        let admin = try AdminClient(operatorOf: layout, adminPort: adminPort)
        try await admin.waitForConnectedAgents(agentURLs.count, check: fleet.checkAlive)

        say("4/6 pushing both models through the admin API; rollout in stages of \(stages.map { "\($0) %" }.joined(separator: ", "))")
        let created = try await admin.startStagedRollout(
            modelName: Self.modelName, reference: (reference, "fp16"), candidate: (candidate, "int8"), stages: stages, windowSize: 100,
            reason: "fleet-in-a-box demo")

        say("5/6 replaying traffic.npz to the agents of each stage as it opens")
        let traffic = TrafficRounds.start(
            agents: agentURLs, data: options.packageRoot.appendingPathComponent("Fixtures/fashion-mnist/traffic.npz"),
            model: Self.modelName, roundSize: 500, concurrency: 8)
        let rollout: AdminAPI.Rollout
        do {
            rollout = try await followStages(created.id, stages: stages, admin: admin, fleet: fleet)
        } catch {
            await traffic.stop()
            throw error
        }
        say("    \(await traffic.stop()) requests answered")

        say("6/6 stage timeline of rollout \(rollout.id)")
        let start = rollout.events.first?.at ?? Date()
        for event in rollout.events {
            let offset = String(format: "%6.1f s", event.at.timeIntervalSince(start))
            let stage = event.stage.map { "stage \($0 + 1) (\(stages[$0]) %)" } ?? "-"
            say("    +\(offset)  \(stage.padding(toLength: 16, withPad: " ", startingAt: 0))\(event.actor) \(event.action): \(event.reason)")
        }
        let reader = try Ledger.openReadOnly(path: layout.ledger.path)
        guard let decision = try reader.latestDecision(forRollout: rollout.id) else {
            throw DemoError(description: "rollout \(rollout.id) ended \(rollout.state) without a decision in the ledger")
        }
        return decision
    }

    /// Polls the rollout until it leaves the running states, saying when each stage opens.
    private func followStages(_ id: String, stages: [Int], admin: AdminClient, fleet: LocalFleet) async throws -> AdminAPI.Rollout {
        let deadline = ContinuousClock.now + options.decisionTimeout * stages.count
        var announced: Int?
        while ContinuousClock.now < deadline {
            try fleet.checkAlive()
            let rollout = try await admin.get("/v1/rollouts/\(id)", as: AdminAPI.Rollout.self)
            if let stage = rollout.stage, stage != announced, rollout.state == "running" {
                say("    stage \(stage + 1)/\(stages.count): \(stages[stage]) % of the fleet, \(rollout.members.count) agent(s) shadowing")
                announced = stage
            }
            if !["created", "running", "paused"].contains(rollout.state) { return rollout }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw DemoError(description: "rollout \(id) still open after \(options.decisionTimeout * stages.count)")
    }
}
