import ArgumentParser
import Foundation
import Operations

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fleet-in-a-box: coordinator + agents on loopback, a real model, real traffic, a ledger decision.")

    @Option(help: "Folder for the demo's PKI, configs, logs and ledger (kept afterwards).")
    var dir: String = "quantfleet-demo"

    @Option(help: "Number of agent processes.")
    var agents: Int = 3

    @Option(help: "Roll out in stages through the admin API, e.g. 5,25,100 (percent of the agents); prints the stage timeline.")
    var stages: String?

    @Option(help: "Repository root holding Fixtures/, Config/ and Deploy/.")
    var root: String = FileManager.default.currentDirectoryPath

    func run() async throws {
        let demo = FleetDemo(
            options: .init(
                directory: URL(fileURLWithPath: dir), agents: agents,
                packageRoot: URL(fileURLWithPath: root), executables: SiblingExecutables.folder, stages: try stages.map(StageList.parse)),
            say: { print($0) })
        let decision = try await demo.run().decision
        let ledger = FleetLayout(root: URL(fileURLWithPath: dir)).ledger.path
        print("""

            decision: \(decision.outcome.rawValue)
              metric \(decision.metric), n = \(decision.n), drop = \(Percent(decision.statistic)), \
            \(Percent(decision.confidence, digits: 0)) bounds [\(Percent(decision.lowerBound)), \(Percent(decision.upperBound))]
              policy \(decision.policyVersion)

            ledger: \(ledger)
              quantfleet rollout status --db \(ledger)
              quantfleet ledger query --db \(ledger) "SELECT * FROM rollout_evidence"
            """)
    }
}
