import FleetProtocol
import Foundation
import Ledger

/// `quantfleet demo --stages`: the rollout goes through the admin API as an operator's would, each
/// stage gated by the policy on its own agents' evidence, and the demo prints the stage timeline.
extension FleetDemo {
    func runStages(
        _ stages: [Int], layout: FleetLayout, fleet: LocalFleet, agentURLs: [URL], reference: URL, candidate: URL,
        ledger location: LedgerLocation
    ) async throws -> DecisionRecord {
        let admins = try fleet.adminPorts.map { try AdminClient(operatorOf: layout, adminPort: $0!) }
        try await waitForConnectedAgents(agentURLs.count, admins: admins, fleet: fleet)
        let ledger = try Ledger.openReadOnly(location: location)
        let holder = try await FailoverDrill.termHolder(in: ledger, fleet: fleet)
        // With several coordinators the operator talks to one that does not hold the controller
        // term: it registers the models (their bytes go into the shared ledger) and redirects the
        // rollout commands to the holder. It stays up, so the rollout is followed through it.
        let operatorsCoordinator = admins.count > 1 ? (holder + 1) % admins.count : holder
        let admin = admins[operatorsCoordinator]

        say("4/6 pushing both models through the admin API of \(LocalFleet.coordinatorName(operatorsCoordinator)); "
            + "rollout in stages of \(stages.map { "\($0) %" }.joined(separator: ", "))")
        let created = try await admin.startStagedRollout(
            modelName: Self.modelName, reference: (reference, "fp16"), candidate: (candidate, "int8"), stages: stages, windowSize: 100,
            reason: "fleet-in-a-box demo")

        say("5/6 replaying traffic.npz to the agents of each stage as it opens")
        let traffic = TrafficRounds.start(
            agents: agentURLs, data: options.packageRoot.appendingPathComponent("Fixtures/fashion-mnist/traffic.npz"),
            model: Self.modelName, roundSize: 500, concurrency: 8)
        // With several coordinators, the holder is killed once the first stage has evidence; the
        // rollout is followed through one that stays.
        let drill = admins.count > 1 ? FailoverDrill(fleet: fleet, ledger: ledger, holder: holder, rolloutID: created.id) : nil
        let killing = drill.map { drill in Task { try await drill.run(say: say) } }
        let rollout: AdminAPI.Rollout
        let failover: [FailoverDrill.Event]
        do {
            rollout = try await followStages(created.id, stages: stages, admin: admin, fleet: fleet)
            failover = try await killing?.value ?? []
        } catch {
            killing?.cancel()
            await traffic.stop()
            throw error
        }
        say("    \(await traffic.stop()) requests answered")

        say("6/6 stage timeline of rollout \(rollout.id)")
        // From the ledger: the admin API gives times to the second.
        let events = try ledger.events(forRollout: rollout.id)
        let start = events.first?.at ?? Date()
        let lines = events.map { event in
            let stage = event.stage.map { "stage \($0 + 1) (\(stages[$0]) %)" } ?? "-"
            return (event.at, "\(stage.padding(toLength: 16, withPad: " ", startingAt: 0))\(event.actor) \(event.action): \(event.reason)")
        } + failover.map { ($0.at, "\("failover".padding(toLength: 16, withPad: " ", startingAt: 0))\($0.text)") }
        for (at, line) in lines.sorted(by: { $0.0 < $1.0 }) {
            say("    +\(String(format: "%6.1f s", at.timeIntervalSince(start)))  \(line)")
        }
        guard let decision = try ledger.latestDecision(forRollout: rollout.id) else {
            throw DemoError(description: "rollout \(rollout.id) ended \(rollout.state) without a decision in the ledger")
        }
        return decision
    }

    /// Waits until `count` agents are connected, to whichever coordinators.
    private func waitForConnectedAgents(_ count: Int, admins: [AdminClient], fleet: LocalFleet) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            try fleet.checkAlive()
            var connected = 0
            for admin in admins {
                connected += (try? await admin.get("/v1/agents", as: [AdminAPI.Agent].self))?.filter(\.connected).count ?? 0
            }
            if connected == count { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw DemoError(description: "\(count) agents did not all connect within 60 s")
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
