import ArgumentParser
import Chaos
import Foundation

struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "A seeded fault campaign: a real fleet behind fault proxies, a staged rollout, faults, then the ledger checked.",
        discussion: """
            Starts quantfleet-coordinator and --agents quantfleet-agent processes on loopback, each agent behind \
            a fault-injecting TCP proxy, and rolls the Fashion-MNIST INT8 candidate out in stages under labelled \
            traffic. For --duration it injects faults drawn from --seed (the same seed gives the same schedule): \
            SIGKILL and SIGSTOP/SIGCONT of agents and of the coordinator, SIGKILLs aimed mid-download, \
            mid-seal and mid-commit (crash points), partitions of one agent and of all, latency and jitter, \
            bandwidth caps, stalls, connections cut mid-stream, half-open connections, reconnects beside a \
            stale session, disks filled under agents and the coordinator (each daemon's state on a 64 MiB \
            tmpfs; where mounting is refused, not root, those faults are reported as not injected), corrupt \
            chunks from the model store, and agents' clocks stepped. Then it lets the rollout finish and \
            checks: every sealed window stored exactly once, no window in a stage its agent had not joined, \
            each stage advanced at most once, every agent serving what the ledger says and keeping only \
            models that hash to their addresses, running totals equal to their windows, PRAGMA \
            integrity_check, and the outcome a fault-free run reaches (--no-faults runs that). Exits 1 if \
            there is any violation.
            """)

    @Option(help: "The seed the fault schedule is drawn from.")
    var seed: UInt64

    @Option(help: "Seconds of fault injection (the rollout's end and the checks follow).")
    var duration: Int

    @Option(help: "Agent processes (\(ChaosCampaign.Options.agentCount.lowerBound)-\(ChaosCampaign.Options.agentCount.upperBound)).")
    var agents = 12

    @Flag(help: "Run the same campaign without faults: the outcome every faulted run must reach.")
    var noFaults = false

    @Option(help: "Folder for the campaign's PKI, configs, logs, spools and ledger (kept afterwards).")
    var dir = "quantfleet-chaos"

    @Option(help: "Repository root holding Fixtures/, Config/ and Deploy/.")
    var root: String = FileManager.default.currentDirectoryPath

    func run() async throws {
        let campaign = ChaosCampaign(
            options: .init(
                directory: URL(fileURLWithPath: dir), packageRoot: URL(fileURLWithPath: root), executables: SiblingExecutables.folder, seed: seed,
                duration: .seconds(duration), agents: agents, injectsFaults: !noFaults),
            say: { print($0) })
        let report = try await campaign.run()
        print("")
        for line in report.lines { print(line) }
        if !report.violations.isEmpty { throw ExitCode(1) }
    }
}
