import ArgumentParser
import FleetProtocol
import Foundation
import Ledger
import Operations

struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Staged rollouts through the coordinator's admin API, and their decisions.",
        subcommands: [Create.self, Start.self, Status.self, Pause.self, Resume.self, Abort.self, Rollback.self, Promote.self, Report.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a staged rollout of pushed models (start it with `rollout start`).")

        @OptionGroup var admin: AdminOptions

        @Option(help: "The name agents serve the model under.")
        var modelName: String

        @Option(help: "sha256 of the reference model (see `model push`).")
        var reference: String

        @Option(help: "sha256 of the candidate model.")
        var candidate: String

        @Option(help: "Percentages of the target per stage, e.g. 5,25,100 (the last must be 100).")
        var stages: String = "5,25,100"

        @Option(help: "A label the agents must carry, as key=value; repeat for several. None: every agent.")
        var target: [String] = []

        @Option(help: "Only agents of this QuantFleet release or later, MAJOR.MINOR.PATCH (see `agents list`); none: any version.")
        var minAgentVersion: String?

        @Option(help: "Fraction of requests shadowed.")
        var samplingRate: Double = 1

        @Option(help: "Paired samples per window.")
        var windowSize: Int = 100

        @Option(help: "A partial window is sealed after this many milliseconds.")
        var windowMaxAgeMs: Int = 1000

        func run() async throws {
            let stagePercents = try StageList.parse(stages)
            var labels: [String: String] = [:]
            for pair in target {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--target \(pair) is not key=value") }
                labels[parts[0]] = parts[1]
            }
            let body = AdminAPI.CreateRollout(
                modelName: modelName, reference: reference, candidate: candidate, target: labels, stages: stagePercents,
                samplingRate: samplingRate, windowSize: windowSize, windowMaxAgeMs: windowMaxAgeMs,
                minimumAgentVersion: minAgentVersion)
            let data = try await admin.client().send(.post, "/v1/rollouts", body: try JSONEncoder().encode(body), contentType: "application/json")
            try admin.show(data, as: AdminAPI.Rollout.self, render: RolloutReport.render)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rollouts with their stage, agents, latest decision and history (or, with --db, read a ledger directly).")

        @OptionGroup var admin: AdminOptions

        @Option(help: "Read this ledger instead of asking the coordinator: a file (the coordinator's ledger.sqlite), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var db: String?

        @Argument(help: "One rollout id; none: every rollout.")
        var id: String?

        func run() async throws {
            if let db {
                try LedgerStatus.print(db: db)
                return
            }
            let client = try admin.client()
            if let id {
                try admin.show(try await client.send(.get, "/v1/rollouts/\(id)"), as: AdminAPI.Rollout.self, render: RolloutReport.render)
            } else {
                try admin.show(try await client.send(.get, "/v1/rollouts"), as: [AdminAPI.Rollout].self) { rollouts in
                    rollouts.isEmpty ? "no rollouts" : rollouts.map(RolloutReport.render).joined(separator: "\n\n")
                }
            }
        }
    }

    struct Start: RolloutVerb {
        static let configuration = CommandConfiguration(abstract: "Enroll the first stage's agents and start shadowing.")
        @OptionGroup var action: RolloutAction
    }

    struct Pause: RolloutVerb {
        static let configuration = CommandConfiguration(abstract: "Stop taking decisions; agents keep shadowing.")
        @OptionGroup var action: RolloutAction
    }

    struct Resume: RolloutVerb {
        static let configuration = CommandConfiguration(abstract: "Take decisions again after a pause.")
        @OptionGroup var action: RolloutAction
    }

    struct Abort: RolloutVerb {
        static let configuration = CommandConfiguration(abstract: "Close the rollout; the reference stays primary.")
        @OptionGroup var action: RolloutAction
    }

    struct Rollback: RolloutVerb {
        static let configuration = CommandConfiguration(
            abstract: "Back to the reference: agents stop shadowing, or, after promotion, switch back at once.")
        @OptionGroup var action: RolloutAction
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote now, whatever the current stage's evidence says (needs --force and --reason; both are recorded).")
        @OptionGroup var action: RolloutAction

        @Flag(help: "Promote before the last stage has shipped.")
        var force = false

        func run() async throws { try await action.perform("promote", force: force) }
    }
}

/// start, pause, resume, abort and rollback: the API's verb is the type's name, as ArgumentParser also
/// derives the command's name from it.
protocol RolloutVerb: AsyncParsableCommand {
    var action: RolloutAction { get }
}

extension RolloutVerb {
    func run() async throws {
        try await action.perform(String(describing: Self.self).lowercased())
    }
}

/// What every rollout action takes: the connection, the rollout, and why.
struct RolloutAction: ParsableArguments {
    @OptionGroup var admin: AdminOptions

    @Argument(help: "The rollout id.")
    var id: String

    @Option(help: "Why; recorded in the ledger with your operator name.")
    var reason: String?

    func perform(_ verb: String, force: Bool? = nil) async throws {
        let body = try JSONEncoder().encode(AdminAPI.Action(reason: reason, force: force))
        let data = try await admin.client().send(.post, "/v1/rollouts/\(id)/\(verb)", body: body, contentType: "application/json")
        try admin.show(data, as: AdminAPI.Rollout.self, render: RolloutReport.render)
    }
}

/// A rollout for people: where it is, its agents, its latest decision and its history.
enum RolloutReport {
    static func render(_ rollout: AdminAPI.Rollout) -> String {
        var lines = ["rollout \(rollout.id)  model \(rollout.modelName)  state \(rollout.state)"
            + (rollout.outcome.map { "  outcome \($0)" } ?? "")]
        lines.append("  reference \(rollout.reference)")
        lines.append("  candidate \(rollout.candidate)")
        if let task = rollout.task { lines.append("  task      \(task)") }
        if let stages = rollout.stages, let stage = rollout.stage {
            let target = (rollout.target ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            lines.append("  stage     \(stage + 1) of \(stages.count) (\(stages[stage]) %)  stages \(stages.map { "\($0) %" }.joined(separator: " -> "))"
                + "  target \(target.isEmpty ? "every agent" : target)"
                + (rollout.minimumAgentVersion.map { ", version \($0) or later" } ?? ""))
            lines.append("  agents    " + (rollout.members.isEmpty ? "none yet"
                : rollout.members.map { "\($0.agentID) (stage \($0.stage + 1))" }.joined(separator: ", ")))
        }
        if let decision = rollout.decision {
            lines.append("  decision  \(decision.outcome)" + (decision.stage.map { " at stage \($0 + 1)" } ?? "")
                + "  \(decision.metric): n = \(decision.n), drop = \(Percent(decision.statistic)), "
                + "\(Percent(decision.confidence, digits: 1)) bounds [\(Percent(decision.lowerBound)), \(Percent(decision.upperBound))]")
            if let reason = decision.reason, !reason.isEmpty { lines.append("  why       \(reason)") }
            let evaluated = rollout.stageDecisions ?? [decision]
            lines.append(indented(DecisionTable.render(evaluated.flatMap(DecisionTable.rows))))
        } else {
            lines.append("  decision  none yet")
        }
        if !rollout.events.isEmpty {
            lines.append(indented(TextTable.render(
                columns: ["at", "who", "action", "stage", "why"],
                rows: rollout.events.map {
                    [$0.at.formatted(.iso8601), $0.actor, $0.action, $0.stage.map { "\($0 + 1)" } ?? "-", $0.reason]
                })))
        }
        return lines.joined(separator: "\n")
    }
}

/// A table set in by two spaces, under a rollout's heading.
func indented(_ table: String) -> String {
    table.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
}

/// `rollout status --db`: the ledger read directly (read-only), no coordinator needed.
enum LedgerStatus {
    static func print(db: String) throws {
        let reader = try Ledger.openReadOnly(location: LedgerLocation(parsing: db))
        let rollouts = try reader.rollouts()
        guard !rollouts.isEmpty else {
            Swift.print("no rollouts in \(db)")
            return
        }
        for rollout in rollouts {
            Swift.print("rollout \(rollout.id)  model \(rollout.modelName)  status \(rollout.status.rawValue)")
            Swift.print("  reference \(rollout.referenceSHA256)")
            Swift.print("  candidate \(rollout.candidateSHA256)")
            Swift.print("  task      \(try reader.model(sha256: rollout.candidateSHA256).taskSummary)")
            if let decision = try reader.latestDecision(forRollout: rollout.id)?.decision {
                Swift.print("  decision  \(decision.outcome.rawValue)  (policy \(decision.policyVersion))")
                Swift.print("  evidence  \(decision.metric): n = \(decision.n), drop = \(Percent(decision.statistic)), "
                    + "\(Percent(decision.confidence, digits: 1)) bounds [\(Percent(decision.lowerBound)), \(Percent(decision.upperBound))]")
                if !decision.reason.isEmpty { Swift.print("  why       \(decision.reason)") }
                Swift.print(indented(DecisionTable.render(try reader.stageDecisions(forRollout: rollout.id).flatMap(DecisionTable.rows))))
            } else {
                Swift.print("  decision  none yet")
            }
            let (samples, measures) = try reader.measures(forRollout: rollout.id)
            for line in MeasuresLine.render(samples: samples, measures) { Swift.print("  \(line)") }
            let counts = try reader.windowCounts(forRollout: rollout.id)
            Swift.print(indented(TextTable.render(
                columns: ["agent", "windows", "samples"],
                rows: counts.map { [$0.agentID, "\($0.windows)", "\($0.samples)"] })))
            Swift.print()
        }
    }
}
