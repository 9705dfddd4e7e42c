import ArgumentParser
import Foundation
import Ledger
import Operations
import ShadowEval

extension RolloutCommand {
    /// `rollout report ID --db LEDGER --html FILE`: the rollout's bounds over time as one HTML page.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a self-contained HTML page: how the drop's confidence bound narrowed against the policy bands, per stage.")

        @Argument(help: "The rollout id.")
        var id: String

        @Option(help: "The ledger to read (read-only): a file, e.g. the coordinator's ledger.sqlite, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var db: String

        @Option(help: "Where to write the page.")
        var html: String

        @Option(help: "For decisions recorded before the ledger kept policy bands: the policy file they were made under (same version). Default: 1 % and 3 %.")
        var policy: String?

        func run() throws {
            let reader = try Ledger.openReadOnly(location: LedgerLocation(parsing: db))
            let data = try RolloutReportData.load(rolloutID: id, from: reader, policy: try policy.map(Policy.read(file:)))
            let page = RolloutReportPage(data: data)
            try Data(page.html.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
            let evaluations = data.series.reduce(0) { $0 + $1.decisions.count }
            print("wrote \(html): \(data.series.count) chart(s), \(evaluations) evaluation(s), decision "
                + (data.latestDecision?.decision.outcome.rawValue ?? "none yet"))
        }
    }
}
