import Foundation
import NIOConcurrencyHelpers

/// Coordinators and agents running as separate processes on loopback, laid out by `FleetLayout`.
/// The demo runs one; the system tests run them to kill, restart and inspect real daemons.
public final class LocalFleet: @unchecked Sendable {
    // @unchecked: the process table is only touched from the task that owns the fleet.
    public let layout: FleetLayout
    public let executables: URL
    /// The first coordinator, then those started beside it on a shared ledger (`startCoordinators`).
    public private(set) var coordinators: [ManagedProcess] = []
    public var coordinator: ManagedProcess? { coordinators.first }
    public private(set) var agents: [String: ManagedProcess] = [:]
    public private(set) var agentURLs: [String: URL] = [:]
    private var agentEnvironments: [String: [String: String]] = [:]
    /// Agents run from another build than `executables` (another release of QuantFleet, say).
    private var agentExecutables: [String: URL] = [:]
    /// Set by `startCoordinator`, or by a test that plays the coordinator itself.
    public var coordinatorPort = 0
    /// Every coordinator's agent port, the first's first; agents are told all of them.
    public private(set) var coordinatorPorts: [Int] = []
    /// Every coordinator's admin port, where it serves one.
    public private(set) var adminPorts: [Int?] = []
    /// Every coordinator's metrics port, where it serves one.
    public private(set) var metricsPorts: [Int?] = []
    /// Coordinators killed on purpose (`killCoordinator`): `checkAlive` does not count them. Locked:
    /// a failover drill kills from a task of its own.
    private let killed = NIOLockedValueBox<Set<String>>([])

    public struct FleetError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(layout: FleetLayout, executables: URL) {
        self.layout = layout
        self.executables = executables
    }

    private var coordinatorEnvironment: [String: String]?

    /// Starts the coordinator with `settings`, and `environment` (the process's whole environment;
    /// nil: this one's), both kept for restarts.
    public func startCoordinator(_ settings: FleetLayout.CoordinatorSettings, environment: [String: String]? = nil) throws {
        coordinatorEnvironment = environment
        coordinatorPort = settings.port
        if coordinatorPorts.isEmpty { coordinatorPorts = [settings.port] }
        if adminPorts.isEmpty { adminPorts = [settings.adminPort] }
        if metricsPorts.isEmpty { metricsPorts = [settings.metricsPort] }
        _ = try layout.writeCoordinatorConfig(settings, index: 0)
        try restartCoordinator(0)
    }

    /// Starts `count` coordinators sharing the PostgreSQL ledger `settings.ledger` names: the first as
    /// `startCoordinator` does, the others on ports (and admin and metrics ports, where the first has
    /// them) of their own, then as `adjust` changes them (e.g. reaching the ledger through a proxy).
    /// Agents started afterwards are told all of them.
    public func startCoordinators(
        _ count: Int, _ settings: FleetLayout.CoordinatorSettings,
        adjusting adjust: (_ index: Int, inout FleetLayout.CoordinatorSettings) -> Void = { _, _ in }
    ) throws {
        precondition(count >= 1 && (count == 1 || settings.ledger != nil), "coordinators share a ledger on PostgreSQL")
        coordinatorPorts = [settings.port]
        for _ in 1..<count { coordinatorPorts.append(try FreePort.allocate()) }
        try startCoordinator(settings)
        for index in 1..<count {
            var other = settings
            other.port = coordinatorPorts[index]
            if settings.adminPort != nil { other.adminPort = try FreePort.allocate() }
            if settings.metricsPort != nil { other.metricsPort = try FreePort.allocate() }
            adjust(index, &other)
            adminPorts.append(other.adminPort)
            metricsPorts.append(other.metricsPort)
            _ = try layout.writeCoordinatorConfig(other, index: index)
            try restartCoordinator(index)
        }
    }

    /// SIGKILLs coordinator `index`, as a crash would; the fleet goes on without it.
    public func killCoordinator(_ index: Int) {
        _ = killed.withLockedValue { $0.insert(coordinators[index].name) }
        coordinators[index].kill()
    }

    /// The index of the coordinator a controller term's holder (`host:port/pid`) names.
    public func coordinatorIndex(holding holder: String) -> Int? {
        coordinatorPorts.firstIndex { holder.contains(":\($0)/") }
    }

    /// The name of coordinator `index` in logs and the process table: "coordinator", "coordinator-2", ...
    public static func coordinatorName(_ index: Int) -> String {
        index == 0 ? "coordinator" : "coordinator-\(index + 1)"
    }

    /// Starts coordinator `index` again as it last ran (same configuration file, environment, ledger
    /// and ports), e.g. after `kill()`.
    public func restartCoordinator(_ index: Int = 0) throws {
        let name = Self.coordinatorName(index)
        guard index <= coordinators.count, FileManager.default.fileExists(atPath: layout.coordinatorConfig(index).path) else {
            throw FleetError(description: "\(name) was never started, so it cannot be restarted")
        }
        _ = killed.withLockedValue { $0.remove(name) }
        let process = try ManagedProcess(
            name: name, executable: executables.appendingPathComponent("quantfleet-coordinator"),
            arguments: ["--config", layout.coordinatorConfig(index).path], logFile: layout.log(name),
            environment: coordinatorEnvironment)
        if index == coordinators.count { coordinators.append(process) } else { coordinators[index] = process }
    }

    /// Starts (or restarts, keeping its port, labels, environment, cache and spool) the agent `id`. It
    /// reaches the coordinator on `coordinatorPort` unless `through` names another port (a proxy's,
    /// say); both, `spoolMaxBytes` (nil: the agent's default cap) and `grpcPort` (nil: no gRPC
    /// server), are read at the agent's first start only. `environment` (the process's whole environment; nil: this one's) and `executables`
    /// (the folder of another build's `quantfleet-agent`; nil: the fleet's) are kept for restarts.
    @discardableResult
    public func startAgent(
        _ id: String, labels: [String: String] = [:], through proxyPort: Int? = nil, environment: [String: String]? = nil,
        spoolMaxBytes: Int? = nil, grpcPort: Int? = nil, executables: URL? = nil
    ) throws -> URL {
        if let environment { agentEnvironments[id] = environment }
        if let executables { agentExecutables[id] = executables }
        let url: URL
        if let known = agentURLs[id] {
            url = known
        } else {
            let port = try FreePort.allocate()
            try layout.writeAgentConfig(
                id: id, coordinatorPorts: proxyPort.map { [$0] } ?? (coordinatorPorts.count > 1 ? coordinatorPorts : [coordinatorPort]),
                inferencePort: port, labels: labels, spoolMaxBytes: spoolMaxBytes, grpcPort: grpcPort)
            url = URL(string: "http://127.0.0.1:\(port)")!
            agentURLs[id] = url
        }
        agents[id] = try ManagedProcess(
            name: id, executable: (agentExecutables[id] ?? self.executables).appendingPathComponent("quantfleet-agent"),
            arguments: ["--config", layout.agentConfig(id).path], logFile: layout.log(id), environment: agentEnvironments[id])
        return url
    }

    public var processes: [ManagedProcess] { coordinators + agents.values.sorted { $0.name < $1.name } }

    /// Waits until every listed agent answers ready, failing early (with its log) if a process died.
    public func waitUntilReady(_ ids: [String], timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        var waiting = Set(ids)
        while !waiting.isEmpty {
            try checkAlive()
            guard ContinuousClock.now < deadline else {
                throw FleetError(description: "agents not ready after \(timeout): \(waiting.sorted())")
            }
            for id in waiting {
                if let url = agentURLs[id], await HealthProbe.isReady(url) { waiting.remove(id) }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    public func checkAlive() throws {
        let killed = killed.withLockedValue { $0 }
        for process in processes where !process.isRunning && !killed.contains(process.name) {
            throw FleetError(description: """
                \(process.name) exited with status \(process.exitStatus ?? -1); last lines of \(process.logFile.path):
                \(process.logTail())
                """)
        }
    }

    /// SIGTERM to every process (agents first, so their last windows can still be sent).
    public func stop() async {
        for agent in agents.values { await agent.stop() }
        for coordinator in coordinators { await coordinator.stop() }
    }
}
