import Agent
import Foundation
import Ledger

/// After a campaign, the ledger held against what every agent sealed: each agent's spool counts the
/// windows it sealed per assignment (sequences 0..<n), and the ledger must hold each of them exactly
/// once, and in a stage the agent was a member of; each stage advanced at most once; the running
/// totals equal their windows; the rollout ended as a fault-free run ends; SQLite finds the file
/// sound. Run while the agents are idle, so that no window is being sealed.
public struct LedgerCheck: Sendable {
    public struct Result: Sendable, Equatable {
        /// Sealed windows held against the ledger.
        public var windowsChecked = 0
        public var violations: [String] = []
    }

    public let ledger: URL
    /// Agent id -> its spool file.
    public let spools: [String: URL]
    public let rolloutID: String
    /// The state the rollout reaches without faults (`rollout_plans.state`).
    public let expectedState: String

    public init(ledger: URL, spools: [String: URL], rolloutID: String, expectedState: String) {
        self.ledger = ledger
        self.spools = spools
        self.rolloutID = rolloutID
        self.expectedState = expectedState
    }

    /// Lists of sequences in violations are cut to this many.
    static let listed = 8

    public func run() throws -> Result {
        let reader = try Ledger.openReadOnly(path: ledger.path)
        var result = Result()
        for (agent, spool) in spools.sorted(by: { $0.key < $1.key }) {
            try checkWindows(of: agent, spool: try WindowSpool(path: spool.path), reader: reader, into: &result)
        }
        result.violations += try outsideTheirStage(reader)
        result.violations += try advancedTwice(reader)
        result.violations += try reader.verifyRunningTotals().mismatches.map { "running totals: \($0)" }
        let state = try rows(reader, "SELECT state FROM rollout_plans WHERE rollout_id = \(quoted(rolloutID))").first?.first
        if state != expectedState {
            result.violations.append("rollout \(rolloutID) ended \(state ?? "missing"), a fault-free run ends \(expectedState)")
        }
        let integrity = try rows(reader, "PRAGMA integrity_check").map { $0.joined() }
        if integrity != ["ok"] { result.violations.append("PRAGMA integrity_check: \(integrity.prefix(Self.listed).joined(separator: "; "))") }
        return result
    }

    /// Every window the agent sealed is in the ledger once, nothing it did not seal is, and nothing
    /// waits unacknowledged in its spool.
    private func checkWindows(of agent: String, spool: WindowSpool, reader: LedgerReader, into result: inout Result) throws {
        let pending = try spool.pending()
        if !pending.isEmpty {
            result.violations.append("\(agent): \(pending.count) sealed windows never acknowledged, first \(pending[0].assignmentID)/\(pending[0].sequence)")
        }
        let sealed = try spool.windowsSealed()
        var stored: [String: [Int]] = [:]
        for row in try rows(reader, "SELECT assignment_id, sequence FROM windows WHERE agent_id = \(quoted(agent)) ORDER BY assignment_id, sequence") {
            stored[row[0], default: []].append(Int(row[1]) ?? -1)
        }
        for assignment in Set(sealed.keys).union(stored.keys).sorted() {
            let count = sealed[assignment] ?? 0
            let sequences = stored[assignment] ?? []
            result.windowsChecked += count
            let missing = Set(0..<count).subtracting(sequences).sorted()
            let unsealed = sequences.filter { !(0..<count).contains($0) }
            let repeated = Dictionary(grouping: sequences, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            if !missing.isEmpty {
                result.violations.append("\(agent), assignment \(assignment): sealed \(count) windows, \(missing.count) missing from the ledger: \(listing(missing))")
            }
            if !unsealed.isEmpty {
                result.violations.append("\(agent), assignment \(assignment): ledger holds \(unsealed.count) windows the agent never sealed: \(listing(unsealed))")
            }
            if !repeated.isEmpty {
                result.violations.append("\(agent), assignment \(assignment): stored more than once: \(listing(repeated))")
            }
        }
    }

    /// Windows counted in a stage whose agent had not joined by then (members join in a stage and stay).
    private func outsideTheirStage(_ reader: LedgerReader) throws -> [String] {
        try rows(reader, """
            SELECT w.agent_id, a.stage, coalesce(m.stage, -1), count(*) FROM windows w
            JOIN assignments a ON a.id = w.assignment_id
            LEFT JOIN stage_members m ON m.rollout_id = a.rollout_id AND m.agent_id = w.agent_id
            WHERE a.rollout_id = \(quoted(rolloutID)) AND (m.stage IS NULL OR m.stage > a.stage)
            GROUP BY w.agent_id, a.stage ORDER BY w.agent_id, a.stage
            """).map { row in
            let joined = row[2] == "-1" ? "is no member" : "joined in stage \((Int(row[2]) ?? 0) + 1)"
            return "\(row[0]): \(row[3]) windows counted in stage \((Int(row[1]) ?? 0) + 1), but the agent \(joined)"
        }
    }

    /// A stage advanced, promoted, rolled back or held more than once.
    private func advancedTwice(_ reader: LedgerReader) throws -> [String] {
        try rows(reader, """
            SELECT coalesce(stage, -1), action, count(*) FROM rollout_events
            WHERE rollout_id = \(quoted(rolloutID)) AND action IN ('advance', 'promote', 'roll-back', 'hold')
            GROUP BY stage, action HAVING count(*) > 1
            """).map { "stage \((Int($0[0]) ?? -1) + 1): '\($0[1])' recorded \($0[2]) times" }
    }

    private func rows(_ reader: LedgerReader, _ sql: String) throws -> [[String]] {
        try reader.query(sql).rows
    }

    private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    private func listing(_ sequences: [Int]) -> String {
        sequences.prefix(Self.listed).map(String.init).joined(separator: ", ") + (sequences.count > Self.listed ? ", ..." : "")
    }
}
