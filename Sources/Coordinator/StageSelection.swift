import DaemonSupport
import Foundation
import Ledger

/// Which agents a stage of a staged rollout takes: deterministic (a hash of rollout and agent id,
/// no randomness, so a restarted coordinator picks the same ones), sticky (members are never
/// dropped; a larger stage only adds), and spread across label groups (round robin over groups of
/// agents with equal labels, so 5 % of two sites is not all from one site).
enum StageSelection {
    /// Agents carrying every target label with its value; an empty target matches every agent.
    static func matches(_ agent: AgentRecord, target: [String: String]) -> Bool {
        target.allSatisfy { agent.labels[$0.key] == $0.value }
    }

    /// The agents a plan targets: its labels, and its minimum release where it has one (an agent
    /// that reports no release version meets none).
    static func matches(_ agent: AgentRecord, plan: RolloutPlan) -> Bool {
        guard matches(agent, target: plan.target) else { return false }
        guard let minimum = plan.minimumAgentVersion else { return true }
        return ReleaseVersion(agent.agentVersion).map { $0 >= minimum } ?? false
    }

    /// How many of `targetSize` agents a stage of `percent` % holds: rounded up, so every stage of a
    /// non-empty target has at least one agent.
    static func size(percent: Int, of targetSize: Int) -> Int {
        (targetSize * percent + 99) / 100
    }

    /// The order in which a rollout enrolls agents: label groups taken in turn, each group in hash order.
    static func order(_ agents: [AgentRecord], rolloutID: String) -> [AgentRecord] {
        let groups = Dictionary(grouping: agents) { agent in
            agent.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        let queues = groups.keys.sorted().map { key in
            groups[key]!.sorted { rank($0.id, rolloutID) < rank($1.id, rolloutID) }
        }
        var ordered: [AgentRecord] = []
        for round in 0..<(queues.map(\.count).max() ?? 0) {
            for queue in queues where round < queue.count { ordered.append(queue[round]) }
        }
        return ordered
    }

    private static func rank(_ agentID: String, _ rolloutID: String) -> String {
        ContentAddress.sha256(of: Data("\(rolloutID)/\(agentID)".utf8))
    }
}
