import ArgumentParser
import Foundation
import Operations

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fleet-in-a-box: coordinator + agents on loopback, a real model, real traffic, a ledger decision.")

    @Option(help: "Folder for the demo's PKI, configs, logs and ledger (kept afterwards).")
    var dir: String = "quantfleet-demo"

    @Option(help: "Number of agent processes (default 3; two per coordinator with several).")
    var agents: Int?

    @Option(help: "Roll out in stages through the admin API, e.g. 5,25,100 (percent of the agents); prints the stage timeline. Default with several coordinators: 34,67,100.")
    var stages: String?

    @Option(help: "Coordinators sharing the ledger (needs --ledger postgres); the controller's holder is SIGKILLed in the middle of the rollout.")
    var coordinators: Int = 1

    @Option(help: "The ledger: sqlite (a file in --dir) or postgres (a server the demo starts in a temporary directory, where PostgreSQL's own user can reach it, from Debian's postgresql package; removed afterwards).")
    var ledger: LedgerEngine = .sqlite

    enum LedgerEngine: String, ExpressibleByArgument {
        case sqlite, postgres
    }

    @Option(help: "Repository root holding Fixtures/, Config/ and Deploy/.")
    var root: String = FileManager.default.currentDirectoryPath

    func run() async throws {
        let several = coordinators > 1
        let demo = FleetDemo(
            options: .init(
                directory: URL(fileURLWithPath: dir), agents: agents ?? (several ? 2 * coordinators : 3),
                packageRoot: URL(fileURLWithPath: root), executables: SiblingExecutables.folder,
                stages: try (stages ?? (several ? "34,67,100" : nil)).map(StageList.parse),
                coordinators: coordinators, postgres: ledger == .postgres),
            say: { print($0) })
        let decision = try await demo.run().decision
        guard ledger == .sqlite else {
            print("""

                decision: \(decision.outcome.rawValue)
                  metric \(decision.metric), n = \(decision.n), drop = \(Percent(decision.statistic)), \
                \(Percent(decision.confidence, digits: 0)) bounds [\(Percent(decision.lowerBound)), \(Percent(decision.upperBound))]
                  policy \(decision.policyVersion)

                the demo's PostgreSQL server is stopped and removed with its ledger
                """)
            return
        }
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
