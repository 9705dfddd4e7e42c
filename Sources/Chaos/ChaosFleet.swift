import FaultInjection
import Foundation
import Operations

/// The fleet a chaos campaign runs: a real coordinator and real agents as processes (`LocalFleet`),
/// each agent reaching the coordinator through a fault proxy of its own, and the operator's admin
/// client.
final class ChaosFleet: @unchecked Sendable {
    // @unchecked: LocalFleet's process table changes only inside the FaultInjector actor while
    // faults run, and only from the campaign's task before and after.
    static let coordinatorName = "coordinator"

    let local: LocalFleet
    let agentIDs: [String]
    /// `proxies[i]` carries agent `agentIDs[i]`'s link.
    let proxies: [FaultProxy]
    /// The disks disk-full faults fill, or why mounting them was refused (not root).
    let disks: Result<DaemonDisks, CampaignError>
    /// `clocks[i]` steps agent `agentIDs[i]`'s wall clock.
    let clocks: [AgentClock]
    /// Each process's crash points, by process name.
    let crashTriggers: [String: CrashTrigger]
    let admin: AdminClient

    private init(
        local: LocalFleet, agentIDs: [String], proxies: [FaultProxy], disks: Result<DaemonDisks, CampaignError>,
        clocks: [AgentClock], crashTriggers: [String: CrashTrigger], admin: AdminClient
    ) {
        self.local = local
        self.agentIDs = agentIDs
        self.proxies = proxies
        self.disks = disks
        self.clocks = clocks
        self.crashTriggers = crashTriggers
        self.admin = admin
    }

    /// Starts the coordinator with `settings` (which must serve the admin API), one proxy per agent in
    /// front of it, then the agents; each daemon keeps its state on a disk of its own where mounting
    /// one is allowed and has crash points the campaign can arm, and each agent reads a wall clock
    /// the campaign can step. Waits until every agent is connected.
    static func start(
        layout: FleetLayout, executables: URL, settings: FleetLayout.CoordinatorSettings, agentIDs: [String]
    ) async throws -> ChaosFleet {
        guard let adminPort = settings.adminPort else { throw CampaignError("the chaos fleet's coordinator needs its admin API") }
        let local = LocalFleet(layout: layout, executables: executables)
        var proxies: [FaultProxy] = []
        let disks = DaemonDisks.mount(coordinator: layout.coordinatorDirectory, agents: agentIDs.map {
            layout.agentDirectory($0).appendingPathComponent("data")
        })
        do {
            let clocks = try agentIDs.map { try AgentClock(offsetFile: layout.root.appendingPathComponent("clocks/\($0).offset")) }
            let crashTriggers = try Dictionary(uniqueKeysWithValues: ([coordinatorName] + agentIDs).map {
                ($0, try CrashTrigger(directory: layout.root.appendingPathComponent("crash-points/\($0)")))
            })
            let environment = ProcessInfo.processInfo.environment
            try local.startCoordinator(settings, environment: environment.merging(crashTriggers[coordinatorName]!.variables) { $1 })
            for (id, clock) in zip(agentIDs, clocks) {
                // On a port of FreePort's, not the kernel's pick: that could be one handed out to a
                // daemon still starting.
                let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: settings.port, listenPort: try FreePort.allocate())
                proxies.append(proxy)
                let variables = clock.variables.merging(crashTriggers[id]!.variables) { $1 }
                try local.startAgent(id, through: proxy.port, environment: environment.merging(variables) { $1 })
            }
            let fleet = ChaosFleet(
                local: local, agentIDs: agentIDs, proxies: proxies, disks: disks, clocks: clocks, crashTriggers: crashTriggers,
                admin: try AdminClient(operatorOf: layout, adminPort: adminPort))
            try await fleet.admin.waitForConnectedAgents(agentIDs.count, timeout: .seconds(120), check: local.checkAlive)
            return fleet
        } catch {
            await local.stop()
            for proxy in proxies { await proxy.stop() }
            if case .success(let disks) = disks { try? disks.unmount() }
            throw error
        }
    }

    func agentID(_ index: Int) -> String { agentIDs[index] }

    /// Where the coordinator keeps its models (`model-store` in FleetLayout's configuration).
    var modelStore: URL { local.layout.coordinatorDirectory.appendingPathComponent("models") }

    /// The agent's model cache (FleetLayout's `data-dir`, then the agent's `models`).
    func modelCache(of agentID: String) -> URL {
        local.layout.agentDirectory(agentID).appendingPathComponent("data/models")
    }

    /// Empties the agent's model cache (verified models and partial downloads), so that its next
    /// start downloads every model it needs.
    func emptyModelCache(of agent: Int) throws {
        let cache = modelCache(of: agentID(agent))
        for file in (try? FileManager.default.contentsOfDirectory(at: cache, includingPropertiesForKeys: nil)) ?? [] {
            try FileManager.default.removeItem(at: file)
        }
    }

    /// The disks to fill; nil where mounting was refused.
    var mountedDisks: DaemonDisks? { try? disks.get() }

    /// Why there are no disks to fill, if there are none.
    var disksRefused: String? {
        if case .failure(let reason) = disks { reason.description } else { nil }
    }

    var agentURLs: [URL] { agentIDs.compactMap { local.agentURLs[$0] } }

    func process(_ name: String) -> ManagedProcess? {
        name == Self.coordinatorName ? local.coordinator : local.agents[name]
    }

    func restart(_ name: String) throws {
        if name == Self.coordinatorName { try local.restartCoordinator() } else { try local.startAgent(name) }
    }

    /// SIGTERM to every process, then the proxies; the daemons' disks are unmounted with their
    /// contents kept in place.
    func stop() async throws {
        await local.stop()
        for proxy in proxies { await proxy.stop() }
        try mountedDisks?.unmount()
    }
}

/// The coordinator's disk and the agents' (`agents[i]` for agent i), mounted together or not at all.
struct DaemonDisks: Sendable {
    let coordinator: FillableDisk
    let agents: [FillableDisk]

    /// Every disk, or why mounting was refused (the ones mounted before are unmounted again).
    static func mount(coordinator: URL, agents: [URL]) -> Result<DaemonDisks, CampaignError> {
        var mounted: [FillableDisk] = []
        do {
            for directory in [coordinator] + agents { mounted.append(try FillableDisk.mount(at: directory)) }
            return .success(DaemonDisks(coordinator: mounted[0], agents: Array(mounted.dropFirst())))
        } catch {
            for disk in mounted { try? disk.unmount() }
            return .failure(CampaignError("mounting a tmpfs for disk-full faults was refused (it needs root): \(error)"))
        }
    }

    var all: [FillableDisk] { [coordinator] + agents }

    func unmount() throws {
        for disk in all { try disk.unmount() }
    }
}

struct CampaignError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
