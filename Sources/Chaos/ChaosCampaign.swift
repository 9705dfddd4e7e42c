import Agent
import FleetProtocol
import Foundation
import Operations

/// `quantfleet chaos`: a real coordinator and real agents, each agent behind a fault proxy, a staged
/// rollout of the Fashion-MNIST INT8 candidate under live labelled traffic, and a schedule of faults
/// drawn from a seed (processes killed, at random or mid-download, mid-seal and mid-commit, and
/// paused; links partitioned, slowed, stalled, cut, left half-open and reconnected beside a stale
/// session; disks filled; stored models corrupted; agents' clocks stepped). When the faults are
/// over, every process is back, the rollout runs to its end, the agents go idle, and the checkers
/// hold the ledger and the agents against each other.
public struct ChaosCampaign: Sendable {
    public struct Options: Sendable {
        public var directory: URL
        /// Where `Fixtures/`, `Config/` and `Deploy/` are (the repository root).
        public var packageRoot: URL
        /// Where `quantfleet-coordinator` and `quantfleet-agent` are.
        public var executables: URL
        public var seed: UInt64
        /// How long faults are injected; the rollout's end and the checks come after.
        public var duration: Duration
        public var agents: Int
        public var meanInterval: Duration
        /// False: the same campaign without a single fault, the run whose outcome the others must reach.
        public var injectsFaults: Bool
        /// How long the rollout may take to finish once the faults are over.
        public var settleTimeout: Duration

        public init(
            directory: URL, packageRoot: URL, executables: URL, seed: UInt64, duration: Duration, agents: Int = 12,
            meanInterval: Duration = .milliseconds(800), injectsFaults: Bool = true, settleTimeout: Duration = .seconds(300)
        ) {
            self.directory = directory
            self.packageRoot = packageRoot
            self.executables = executables
            self.seed = seed
            self.duration = duration
            self.agents = agents
            self.meanInterval = meanInterval
            self.injectsFaults = injectsFaults
            self.settleTimeout = settleTimeout
        }

        public static let agentCount = 1...50

        func validate() throws {
            guard Self.agentCount.contains(agents) else {
                throw CampaignError("--agents \(agents): a campaign runs \(Self.agentCount.lowerBound) to \(Self.agentCount.upperBound) agents")
            }
            guard duration > .zero else { throw CampaignError("--duration must be positive, got \(duration)") }
            guard meanInterval > .zero else { throw CampaignError("the mean interval between faults must be positive") }
        }
    }

    /// The rollout's stages, in percent of the agents.
    public static let stages = [10, 50, 100]
    /// Where the same rollout ends without faults (`--no-faults` runs it): the INT8 MLP ships at
    /// every stage under the campaign's policy, so the candidate is promoted.
    public static let faultFreeState = "promoted"
    static let windowSize = 20
    static let windowMaxAge: Duration = .milliseconds(500)

    public let options: Options
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
    }

    public func run() async throws -> ChaosReport {
        try options.validate()
        let layout = FleetLayout(root: options.directory)
        let fixtures = options.packageRoot.appendingPathComponent("Fixtures/fashion-mnist")
        let agentIDs = (1...options.agents).map { "agent-\($0)" }
        let schedule = FaultSchedule.draw(
            seed: options.seed,
            .init(duration: options.duration, agents: options.agents, meanInterval: options.meanInterval),
            injectsFaults: options.injectsFaults)
        try layout.resetState()
        say("1/5 seed \(options.seed): \(schedule.entries.count) faults over \(options.duration) (schedule \(schedule.fingerprint)); "
            + "PKI and the INT8 candidate under \(layout.root.path)")
        try layout.makePKI(script: options.packageRoot.appendingPathComponent("Deploy/pki/make-pki.sh"), agents: agentIDs)
        let (candidate, _) = try layout.quantizeCandidate(fixtures: fixtures)
        var settings = FleetLayout.CoordinatorSettings(
            port: try FreePort.allocate(), policy: try writePolicy(in: layout), modelName: FleetDemo.modelName,
            reference: fixtures.appendingPathComponent("mlp-fp16.onnx"), candidate: candidate)
        settings.opensRollout = false
        settings.adminPort = try FreePort.allocate()
        // Silence is noticed after three intervals: 3 s, so that partitions and pauses end sessions.
        settings.heartbeatIntervalMillis = 1000

        say("2/5 starting the coordinator, \(agentIDs.count) fault proxies and \(agentIDs.count) agents")
        let fleet = try await ChaosFleet.start(
            layout: layout, executables: options.executables, settings: settings, agentIDs: agentIDs)
        do {
            let report = try await drive(fleet, schedule: schedule, settings: settings)
            try await fleet.stop()
            return report
        } catch {
            try? await fleet.stop()
            throw error
        }
    }

    private func drive(_ fleet: ChaosFleet, schedule: FaultSchedule, settings: FleetLayout.CoordinatorSettings) async throws -> ChaosReport {
        let layout = fleet.local.layout
        say("3/5 rollout in stages of \(Self.stages.map { "\($0) %" }.joined(separator: ", ")) with labelled traffic to every agent")
        let rollout = try await fleet.admin.startStagedRollout(
            modelName: FleetDemo.modelName, reference: (settings.reference, "fp16"), candidate: (settings.candidate, "int8"),
            stages: Self.stages, windowSize: Self.windowSize, windowMaxAgeMs: Int(Self.windowMaxAge / .milliseconds(1)),
            reason: "chaos campaign, seed \(options.seed)")
        let traffic = TrafficRounds.start(
            agents: fleet.agentURLs, data: options.packageRoot.appendingPathComponent("Fixtures/fashion-mnist/traffic.npz"),
            model: FleetDemo.modelName, roundSize: 200, concurrency: 4, requestTimeout: .seconds(2))

        let injector = FaultInjector(fleet: fleet)
        say("4/5 injecting faults for \(options.duration); each one is logged in \(layout.root.appendingPathComponent("chaos-faults.log").path)")
        try await inject(schedule, with: injector, fleet: fleet, rolloutID: rollout.id, traffic: traffic)
        await injector.healAll()
        await injector.restartCrashed()

        say("5/5 faults over: waiting for the rollout to finish (at most \(options.settleTimeout)), then for idle agents, then checking")
        let state = await waitForEnd(of: rollout.id, fleet: fleet, injector: injector)
        let answered = await traffic.stop()
        try await waitUntilIdle(fleet, injector: injector)
        await injector.restartCrashed()

        var violations = await injector.failures
        let spools = Dictionary(uniqueKeysWithValues: fleet.agentIDs.map { ($0, layout.spool($0)) })
        violations += try await ServingCheck(
            agents: Dictionary(uniqueKeysWithValues: fleet.agentIDs.compactMap { id in fleet.local.agentURLs[id].map { (id, $0) } }),
            modelCaches: Dictionary(uniqueKeysWithValues: fleet.agentIDs.map { ($0, fleet.modelCache(of: $0)) }),
            modelName: FleetDemo.modelName, reference: rollout.reference, candidate: rollout.candidate, ledger: layout.ledger,
            rolloutID: rollout.id
        ).run()
        let checked = try LedgerCheck(ledger: layout.ledger, spools: spools, rolloutID: rollout.id, expectedState: Self.faultFreeState).run()
        violations += checked.violations
        return ChaosReport(
            seed: options.seed, duration: options.duration, agents: options.agents, rolloutID: rollout.id, schedule: schedule,
            faultsInjected: await injector.started, faultsNotInjected: await injector.notInjected,
            notInjectedReason: fleet.disksRefused, aimedKillsMissed: await injector.missed,
            windowsChecked: checked.windowsChecked, requestsAnswered: answered,
            rolloutState: state ?? "unknown (the coordinator did not answer)", violations: violations)
    }

    /// Runs every fault of the schedule at its time, and says how the campaign goes every 15 s.
    private func inject(
        _ schedule: FaultSchedule, with injector: FaultInjector, fleet: ChaosFleet, rolloutID: String, traffic: TrafficRounds
    ) async throws {
        let start = ContinuousClock.now
        let log = try CampaignLog(fleet.local.layout.root.appendingPathComponent("chaos-faults.log"), start: start)
        await withTaskGroup(of: Void.self) { group in
            for entry in schedule.entries {
                group.addTask {
                    try? await Task.sleep(until: start + entry.at, clock: .continuous)
                    log.write("start  \(entry.fault)")
                    await injector.start(entry.fault)
                    if entry.fault.duration > .zero { try? await Task.sleep(for: entry.fault.duration) }
                    await injector.end(entry.fault)
                    log.write("end    \(entry.fault)")
                }
            }
            group.addTask {
                var next = start + .seconds(15)
                while next < start + options.duration {
                    try? await Task.sleep(until: next, clock: .continuous)
                    await injector.restartCrashed()
                    let faults = await injector.started.values.reduce(0, +)
                    let rollout = try? await fleet.admin.get("/v1/rollouts/\(rolloutID)", as: AdminAPI.Rollout.self)
                    let standing = rollout.map { "rollout \($0.state), stage \(($0.stage ?? 0) + 1)/\(Self.stages.count)" } ?? "the coordinator does not answer"
                    say("    +\(Int((next - start) / .seconds(1))) s: \(faults) faults so far, \(standing), \(traffic.answeredRequests) requests answered")
                    next += .seconds(15)
                }
            }
        }
    }

    /// Polls the rollout until it leaves the running states or the settle time passes; restarts
    /// crashed processes meanwhile. Answers the last state seen.
    private func waitForEnd(of rolloutID: String, fleet: ChaosFleet, injector: FaultInjector) async -> String? {
        let deadline = ContinuousClock.now + options.settleTimeout
        var state: String?
        while ContinuousClock.now < deadline {
            await injector.restartCrashed()
            if let rollout = try? await fleet.admin.get("/v1/rollouts/\(rolloutID)", as: AdminAPI.Rollout.self) {
                state = rollout.state
                if !["created", "running", "paused"].contains(rollout.state) { return state }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        return state
    }

    /// Waits until no agent has a window waiting for its ack and none sealed another for two polls
    /// in a row (the last partial windows are sealed by age first), so that the checkers compare
    /// still files. Gives up after two minutes: the checker then reports what never arrived.
    private func waitUntilIdle(_ fleet: ChaosFleet, injector: FaultInjector) async throws {
        try await Task.sleep(for: Self.windowMaxAge * 3)
        let spools = try fleet.agentIDs.map { try WindowSpool(path: fleet.local.layout.spool($0).path) }
        let deadline = ContinuousClock.now + .seconds(120)
        var previous: [[String: Int]] = []
        var stillFor = 0
        while ContinuousClock.now < deadline, stillFor < 2 {
            await injector.restartCrashed()
            let sealed = try spools.map { try $0.windowsSealed() }
            let pending = try spools.map { try $0.pending().count }.reduce(0, +)
            stillFor = pending == 0 && sealed == previous ? stillFor + 1 : 0
            previous = sealed
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// The campaign's policy: Config/policy.yaml's bands are too narrow to decide on a few minutes of
    /// traffic, so these are looser; the evidence each stage needs grows with the fault window (120
    /// samples per second of it; the agents answer some 400 a second here without faults), so that
    /// the stages advance while the faults go on rather than all before the first one, up to 12,000
    /// so that a long campaign still promotes and goes on faulting a promoted fleet.
    private func writePolicy(in layout: FleetLayout) throws -> URL {
        let policy = layout.root.appendingPathComponent("chaos-policy.yaml")
        let samples = min(12_000, max(300, 120 * Int(options.duration / .seconds(1))))
        try """
            version: "chaos.1"
            ship-below: 0.05
            stay-fp16-above: 0.2
            confidence: 0.95
            minimum-samples: \(samples)
            minimum-labelled: \(samples)

            """.write(to: policy, atomically: true, encoding: .utf8)
        return policy
    }
}
