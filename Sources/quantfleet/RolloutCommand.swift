import ArgumentParser
import Foundation
import Ledger
import Operations

struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Rollouts and their decisions.",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each rollout with its latest decision, the evidence behind it, and windows per agent.")

        @Option(help: "The ledger file (the coordinator's ledger.sqlite).")
        var db: String

        func run() async throws {
            let reader = try Ledger.openReadOnly(path: db)
            let rollouts = try reader.rollouts()
            guard !rollouts.isEmpty else {
                print("no rollouts in \(db)")
                return
            }
            for rollout in rollouts {
                print("rollout \(rollout.id)  model \(rollout.modelName)  status \(rollout.status.rawValue)")
                print("  reference \(rollout.referenceSHA256)")
                print("  candidate \(rollout.candidateSHA256)")
                if let decision = try reader.latestDecision(forRollout: rollout.id)?.decision {
                    print("  decision  \(decision.outcome.rawValue)  (policy \(decision.policyVersion))")
                    print("  evidence  \(decision.metric): n = \(decision.n), drop = \(Percent(decision.statistic)), "
                        + "\(Percent(decision.confidence, digits: 0)) bounds [\(Percent(decision.lowerBound)), \(Percent(decision.upperBound))]")
                } else {
                    print("  decision  none yet")
                }
                let counts = try reader.windowCounts(forRollout: rollout.id)
                print(TextTable.render(
                    columns: ["agent", "windows", "samples"],
                    rows: counts.map { [$0.agentID, "\($0.windows)", "\($0.samples)"] })
                    .split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                print()
            }
        }
    }
}
