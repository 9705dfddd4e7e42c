import Foundation
import Ledger
import Quantization
import ShadowEval

/// Fleet-in-a-box: a coordinator and N agents as separate processes on loopback, a real model
/// quantized to INT8 here, real traffic replayed through the agents, and the ledger's decision.
public struct FleetDemo: Sendable {
    public struct Options: Sendable {
        public var directory: URL
        public var agents: Int
        /// Where `Fixtures/`, `Config/` and `Deploy/` are (the repository root).
        public var packageRoot: URL
        /// Where `quantfleet-coordinator` and `quantfleet-agent` are.
        public var executables: URL
        public var decisionTimeout: Duration
        /// Stage percentages of a staged rollout through the admin API; nil: the configuration
        /// file's rollout, shadowed by every agent and decided once.
        public var stages: [Int]?
        /// Coordinators sharing the ledger; with more than one, the controller term's holder is
        /// killed in the middle of the rollout (`FleetDemo+Failover.swift`).
        public var coordinators: Int
        /// A PostgreSQL ledger (a server the demo starts in a temporary directory), rather than a SQLite file.
        public var postgres: Bool

        public init(
            directory: URL, agents: Int = 3, packageRoot: URL, executables: URL, decisionTimeout: Duration = .seconds(60),
            stages: [Int]? = nil, coordinators: Int = 1, postgres: Bool = false
        ) {
            self.directory = directory
            self.agents = agents
            self.packageRoot = packageRoot
            self.executables = executables
            self.decisionTimeout = decisionTimeout
            self.stages = stages
            self.coordinators = coordinators
            self.postgres = postgres
        }
    }

    public struct DemoError: Error, CustomStringConvertible {
        public let description: String
    }

    public static let modelName = "fashion-mnist-mlp"

    public let options: Options
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
    }

    /// Runs the whole loop and returns the decision; every process it started is stopped on return.
    public func run() async throws -> DecisionRecord {
        guard options.coordinators == 1 || options.postgres else {
            throw DemoError(description: "several coordinators share a PostgreSQL ledger: add --ledger postgres")
        }
        let layout = FleetLayout(root: options.directory)
        let fixtures = options.packageRoot.appendingPathComponent("Fixtures/fashion-mnist")
        let agentIDs = (1...options.agents).map { "agent-\($0)" }
        try layout.resetState()

        say("1/6 PKI: fleet CA, coordinator and \(agentIDs.count) agent certificates -> \(layout.pki.path)")
        try layout.makePKI(script: options.packageRoot.appendingPathComponent("Deploy/pki/make-pki.sh"), agents: agentIDs)

        say("2/6 quantizing \(fixtures.lastPathComponent)/mlp-fp32.onnx to INT8 (weights per output channel, activations per tensor at run time)")
        let (candidate, report) = try layout.quantizeCandidate(fixtures: fixtures)
        say("    \(report.quantizedNodes.count) nodes quantized (\(report.quantizedNodes.joined(separator: ", "))), "
            + "\(report.bytesBefore) -> \(report.bytesAfter) bytes")

        var server: PostgresServer?
        if options.postgres {
            // In the temporary directory, not the demo's folder: as root, the server runs as the
            // postgres user, who may not reach into the folder (a home directory, say).
            let started = try PostgresServer.start()
            server = started
            try started.psql("CREATE DATABASE ledger")
            say("    PostgreSQL \(try started.psql("SHOW server_version")) ledger on 127.0.0.1:\(started.port) (initdb, pg_ctl in \(started.directory.path))")
        }
        defer { try? server?.stop() }
        let ledgerURI = server.map { $0.url(database: "ledger") + "?sslmode=disable" }
        let ledger = try ledgerURI.map { LedgerLocation.postgres(try PostgresLocation(parsing: $0, environment: [:])) }
            ?? .file(layout.ledger.path)

        let coordinatorPort = try FreePort.allocate()
        var settings = FleetLayout.CoordinatorSettings(
            port: coordinatorPort, policy: options.packageRoot.appendingPathComponent("Config/policy.yaml"),
            modelName: Self.modelName, reference: fixtures.appendingPathComponent("mlp-fp16.onnx"), candidate: candidate)
        settings.windowSize = 100
        settings.ledger = ledgerURI
        if options.stages != nil {
            settings.opensRollout = false
            settings.adminPort = try FreePort.allocate()
        }

        let fleet = LocalFleet(layout: layout, executables: options.executables)
        do {
            try fleet.startCoordinators(options.coordinators, settings)
            say("3/6 started quantfleet-coordinator on 127.0.0.1:\(fleet.coordinatorPorts.map(String.init).joined(separator: ", ")) "
                + "and \(agentIDs.count) agents")
            let agentURLs = try agentIDs.map { try fleet.startAgent($0) }
            if let stages = options.stages {
                let decision = try await runStages(
                    stages, layout: layout, fleet: fleet, agentURLs: agentURLs, reference: settings.reference,
                    candidate: candidate, ledger: ledger)
                await fleet.stop()
                return decision
            }

            say("4/6 waiting for agents to download, verify and load both models")
            try await fleet.waitUntilReady(agentIDs)

            let traffic = fixtures.appendingPathComponent("traffic.npz")
            say("5/6 replaying \(traffic.lastPathComponent) across \(agentURLs.count) agents (labels sent as a request parameter)")
            let replay = try await TrafficReplay(options: .init(data: traffic, agents: agentURLs, model: Self.modelName))
                .run { _ in }
            say("    \(replay.succeeded) requests answered, \(replay.failed) failed, \(Int(replay.requestsPerSecond)) requests/s")
            if let error = replay.firstError { say("    first failure: \(error)") }

            say("6/6 waiting for the rollout decision in \(ledger)")
            let decision = try await waitForDecision(ledger: ledger, fleet: fleet)
            try await waitForEvidence(samples: replay.succeeded, ledger: ledger)
            await fleet.stop()
            return decision
        } catch {
            await fleet.stop()
            throw error
        }
    }

    /// The decision may come before the last windows land; give them a moment so the ledger
    /// the demo leaves behind holds every paired sample.
    private func waitForEvidence(samples: Int, ledger: LedgerLocation) async throws {
        let reader = try Ledger.openReadOnly(location: ledger)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let stored = Int(try reader.query("SELECT coalesce(sum(count), 0) FROM windows").rows.first?.first ?? "") ?? 0
            if stored >= samples { return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// A SQLite ledger is made by the coordinator when it starts; a PostgreSQL one by the demo.
    private static func exists(_ ledger: LedgerLocation) -> Bool {
        guard case .file(let path) = ledger else { return true }
        return FileManager.default.fileExists(atPath: path)
    }

    private func waitForDecision(ledger: LedgerLocation, fleet: LocalFleet) async throws -> DecisionRecord {
        let deadline = ContinuousClock.now + options.decisionTimeout
        var latest: DecisionRecord?
        while ContinuousClock.now < deadline {
            try fleet.checkAlive()
            if Self.exists(ledger) {
                let reader = try Ledger.openReadOnly(location: ledger)
                if let rollout = try reader.rollouts().last {
                    latest = try reader.latestDecision(forRollout: rollout.id)
                    if let latest, latest.decision.outcome != .collecting { return latest }
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        if let latest { return latest }
        throw DemoError(description: "no decision in the ledger after \(options.decisionTimeout)")
    }
}
