/// What a campaign did and what the checker found; `lines` is what `quantfleet chaos` prints.
public struct ChaosReport: Sendable {
    public var seed: UInt64
    public var duration: Duration
    public var agents: Int
    public var rolloutID: String
    public var schedule: FaultSchedule
    /// Faults started during the fault window, per kind (the schedule's, once every one has run).
    public var faultsInjected: [Fault.Kind: Int]
    /// Scheduled faults this machine could not inject, per kind, and why.
    public var faultsNotInjected: [Fault.Kind: Int] = [:]
    public var notInjectedReason: String?
    /// Aimed kills whose process did not reach its crash point while armed, per kind.
    public var aimedKillsMissed: [Fault.Kind: Int] = [:]
    public var windowsChecked: Int
    public var requestsAnswered: Int
    /// The rollout's state at the end, as the admin API gave it.
    public var rolloutState: String
    public var violations: [String]

    public var lines: [String] {
        let total = faultsInjected.values.reduce(0, +)
        let width = Fault.Kind.allCases.map(\.rawValue.count).max() ?? 0
        var lines = ["faults injected: \(total) (seed \(seed), schedule \(schedule.fingerprint), \(agents) agents, \(Int(duration / .seconds(1))) s)"]
        for kind in Fault.Kind.allCases {
            let skipped = faultsNotInjected[kind].map { " (\($0) scheduled, not injected)" } ?? ""
            let missed = aimedKillsMissed[kind].map { " (\($0) did not reach the point while armed)" } ?? ""
            lines.append("  \(kind.rawValue.padding(toLength: width, withPad: " ", startingAt: 0))  \(faultsInjected[kind] ?? 0)\(skipped)\(missed)")
        }
        if !faultsNotInjected.isEmpty, let notInjectedReason { lines.append("not injected: \(notInjectedReason)") }
        lines.append("requests answered: \(requestsAnswered)")
        lines.append("rollout: \(rolloutState)")
        lines.append("windows checked: \(windowsChecked)")
        lines += violations.map { "violation: \($0)" }
        lines.append("violations: \(violations.count)")
        return lines
    }
}
