import ArgumentParser
import FleetProtocol
import Foundation
import Operations

struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Agents the coordinator knows.",
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every agent that ever connected: labels, last seen, open rollouts.")

        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let data = try await admin.client().send(.get, "/v1/agents")
            try admin.show(data, as: [AdminAPI.Agent].self) { agents in
                TextTable.render(
                    columns: ["agent", "connected", "labels", "kernel", "version", "last seen", "rollouts"],
                    rows: agents.map { agent in
                        [agent.id, agent.connected ? "yes" : "no",
                         agent.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                         agent.kernelPath, agent.agentVersion, agent.lastSeenAt.formatted(.iso8601),
                         Self.describe(agent.rollouts ?? [:])]
                    })
            }
        }

        /// `model=rollout` per open rollout, by model name; "-" for none.
        static func describe(_ rollouts: [String: String]) -> String {
            rollouts.isEmpty ? "-" : rollouts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
    }
}
