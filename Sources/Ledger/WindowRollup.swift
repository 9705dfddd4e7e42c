import Foundation
import GRDB
import ShadowEval

/// Retention's unit of work (migration v14): the oldest windows not rolled up yet, a prefix in
/// ingest order, become one row per (assignment, agent, day, kernel path, device class), in one
/// transaction (merged into the row an earlier rollup left for the same group, if there is one). Each row merges its windows' counts, cost and measures exactly as the SQL re-sum
/// and the views add them (sums, the extremes, merged sketches), and so do its class rows; it
/// takes the ingest order of its last window and minus that as its sequence. Before the windows
/// go, each stage they belong to gets a checkpoint of its evidence through the last of them
/// (`RollupCheckpoints`), and their sequences are kept as ranges (`rolled_sequences`), so that a
/// resend is still recognised. The running totals are not touched: decisions read them, so every
/// decision reads as it did.
enum WindowRollup {
    /// The last window in ingest order that was ingested before `cutoff` (0: none), found by
    /// bisection on ingest order, whose ingest times grow with it (a coordinator's clock stepping
    /// back moves the boundary by that step, which an age in days does not notice).
    static func lastWindow(ingestedBefore cutoff: Date, _ db: any LedgerSession) throws -> Int64 {
        // Windows up to `old` were ingested before the cutoff; the first window from `new` on was not.
        var old: Int64 = 0
        var new = (try Int64.fetchOne(db, sql: "SELECT MAX(ingest_order) FROM windows") ?? 0) + 1
        while new - old > 1 {
            let middle = old + (new - old) / 2
            guard let first = try Row.fetchOne(
                db, sql: "SELECT ingest_order, ingested_at FROM windows WHERE ingest_order >= ? AND ingest_order < ? ORDER BY ingest_order LIMIT 1",
                arguments: [middle, new])
            else {
                new = middle
                continue
            }
            let ingestedAt: Date = first["ingested_at"]
            if ingestedAt < cutoff { old = first["ingest_order"] } else { new = middle }
        }
        return old
    }

    /// Rolls up the oldest windows not rolled up yet, at most `limit` of them, none after window
    /// `boundary` in ingest order. Returns how many windows were rolled up and how many rows that
    /// added (rows merged into, of earlier rollups, are not counted again); no windows: none were left.
    static func rollUpOldest(_ db: any LedgerSession, boundary: Int64, limit: Int) throws -> (windows: Int, rows: Int) {
        precondition(limit >= 1, "a rollup takes at least one window")
        // Every window up to the checkpoints' last is rolled up, and every rolled-up row lies there.
        let after = try RollupCheckpoints.rolledThrough(db)
        guard let through = try Int64.fetchOne(db, sql: """
            SELECT MAX(ingest_order) FROM (
                SELECT ingest_order FROM windows WHERE ingest_order > ? AND ingest_order <= ? ORDER BY ingest_order LIMIT ?
            ) AS oldest
            """, arguments: [after, boundary, limit])
        else { return (0, 0) }

        let windows = try Row.fetchAll(db, sql: """
            SELECT w.*, a.rollout_id, a.stage FROM windows w JOIN assignments a ON a.id = w.assignment_id
            WHERE w.ingest_order > ? AND w.ingest_order <= ? ORDER BY w.ingest_order
            """, arguments: [after, through])
        var classRows: [Int64: [Row]] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT * FROM window_classes WHERE ingest_order > ? AND ingest_order <= ?", arguments: [after, through])
        {
            classRows[row["ingest_order"], default: []].append(row)
        }

        // Each stage's checkpoint moves on through these windows: every window of the stage between
        // its last checkpoint and `through` is among them, in ingest order.
        var checkpoints: [StageKey: RunningTotals] = [:]
        for window in windows {
            let stage = StageKey(rolloutID: window["rollout_id"], stage: window["stage"])
            if checkpoints[stage] == nil { checkpoints[stage] = try RollupCheckpoints.read(db, stage)?.evidence ?? RunningTotals() }
            WindowReplay.append(window, classes: classRows[window["ingest_order"]] ?? [], to: &checkpoints[stage]!)
        }

        var rolled: [RolledWindow.Key: RolledWindow] = [:]
        var sequences: [SequenceOwner: [Int64]] = [:]
        for window in windows {
            let key = RolledWindow.Key(window)
            try rolled[key, default: RolledWindow()].add(window, classes: classRows[window["ingest_order"]] ?? [])
            sequences[SequenceOwner(assignmentID: key.assignmentID, agentID: key.agentID), default: []].append(window["sequence"])
        }
        // A group an earlier rollup left a row for (an hourly run rolls up part of a day) is merged
        // into that row, so there stays one row per agent and day.
        var earlier: [Int64] = []
        for owner in sequences.keys {
            for row in try Row.fetchAll(
                db, sql: "SELECT * FROM windows WHERE assignment_id = ? AND agent_id = ? AND sequence < 0",
                arguments: [owner.assignmentID, owner.agentID])
            {
                let key = RolledWindow.Key(row)
                guard rolled[key] != nil else { continue }
                let ingestOrder: Int64 = row["ingest_order"]
                let classes = try Row.fetchAll(db, sql: "SELECT * FROM window_classes WHERE ingest_order = ?", arguments: [ingestOrder])
                try rolled[key]!.add(row, classes: classes)
                earlier.append(ingestOrder)
            }
        }

        try db.execute(sql: "DELETE FROM window_classes WHERE ingest_order > ? AND ingest_order <= ?", arguments: [after, through])
        try db.execute(sql: "DELETE FROM windows WHERE ingest_order > ? AND ingest_order <= ?", arguments: [after, through])
        for ingestOrder in earlier {
            try db.execute(sql: "DELETE FROM window_classes WHERE ingest_order = ?", arguments: [ingestOrder])
            try db.execute(sql: "DELETE FROM windows WHERE ingest_order = ?", arguments: [ingestOrder])
        }
        for (key, window) in rolled { try window.insert(key, db) }
        for (owner, numbers) in sequences { try keepRolled(numbers, of: owner, db) }
        for (stage, evidence) in checkpoints { try RollupCheckpoints.write(db, stage, evidence: evidence, through: through) }
        return (windows.count, rolled.count - earlier.count)
    }

    private struct SequenceOwner: Hashable {
        var assignmentID: String
        var agentID: String
    }

    /// Adds the sequences to the agent's rolled-up ranges: each run of consecutive numbers extends the
    /// range that ends just before it, or starts one.
    private static func keepRolled(_ numbers: [Int64], of owner: SequenceOwner, _ db: any LedgerSession) throws {
        var runs: [(first: Int64, last: Int64)] = []
        for number in numbers.sorted() {
            if let last = runs.last?.last, number == last + 1 { runs[runs.count - 1].last = number } else { runs.append((number, number)) }
        }
        for run in runs {
            let extended = try db.execute(
                sql: "UPDATE rolled_sequences SET last_sequence = ? WHERE assignment_id = ? AND agent_id = ? AND last_sequence = ?",
                arguments: [run.last, owner.assignmentID, owner.agentID, run.first - 1])
            guard extended == 0 else { continue }
            try db.execute(
                sql: "INSERT INTO rolled_sequences (assignment_id, agent_id, first_sequence, last_sequence) VALUES (?, ?, ?, ?)",
                arguments: [owner.assignmentID, owner.agentID, run.first, run.last])
        }
    }
}

/// One rolled-up row being built from the windows it merges.
private struct RolledWindow {
    struct Key: Hashable {
        var assignmentID: String
        var agentID: String
        /// The UTC day the windows were ingested on, "yyyy-MM-dd".
        var day: String
        var kernelPath: String
        var deviceClass: String?

        init(_ window: Row) {
            assignmentID = window["assignment_id"]
            agentID = window["agent_id"]
            day = String((window["ingested_at"] as String).prefix(10))
            kernelPath = window["kernel_path"]
            deviceClass = window["device_class"]
        }
    }

    /// The columns a merge adds up, windows and class rows.
    static let summed = [
        "windows_merged", "count", "top1_agreements", "labelled", "reference_correct", "candidate_correct",
        "reference_only_correct", "candidate_only_correct", "reference_latency_us_sum", "candidate_latency_us_sum",
        "shadow_drops", "floor_samples", "floor_agreements",
    ]
    static let summedByClass = [
        "windows_merged", "samples", "agreements", "both_right", "reference_only_right", "candidate_only_right", "both_wrong",
    ]

    private var sums: [String: Int64] = [:]
    private var lastIngestOrder: Int64 = 0
    private var startedAtMillis = Int64.max
    private var endedAtMillis = Int64.min
    /// The latest ingest time, as stored (text that sorts as the time does).
    private var ingestedAt = ""
    /// As SQL's SUM and MAX: NULLs (a NaN output) left out, NULL when every window's is.
    private var klDivergenceSum: Double?
    private var maxAbsDiff: Double?
    private var referenceMemoryBytes: Int64?
    private var candidateMemoryBytes: Int64?
    private var measures = WindowMeasures()
    private var classes: [Int64: [String: Int64]] = [:]

    mutating func add(_ window: Row, classes classRows: [Row]) throws {
        for column in Self.summed { sums[column, default: 0] += window[column] as Int64 }
        lastIngestOrder = max(lastIngestOrder, window["ingest_order"])
        startedAtMillis = min(startedAtMillis, window["started_at_ms"])
        endedAtMillis = max(endedAtMillis, window["ended_at_ms"])
        ingestedAt = max(ingestedAt, window["ingested_at"])
        klDivergenceSum = Self.sum(klDivergenceSum, window["kl_divergence_sum"])
        maxAbsDiff = Self.largest(maxAbsDiff, window["max_abs_diff"])
        referenceMemoryBytes = Self.largest(referenceMemoryBytes, window["reference_memory_bytes"])
        candidateMemoryBytes = Self.largest(candidateMemoryBytes, window["candidate_memory_bytes"])
        measures.merge(try WindowResum.measures(of: window))
        for row in classRows {
            for column in Self.summedByClass { classes[row["class"], default: [:]][column, default: 0] += row[column] as Int64 }
        }
    }

    func insert(_ key: Key, _ db: any LedgerSession) throws {
        let columns = [
            "ingest_order", "agent_id", "assignment_id", "sequence", "started_at_ms", "ended_at_ms", "kl_divergence_sum",
            "max_abs_diff", "kernel_path", "ingested_at", "reference_memory_bytes", "candidate_memory_bytes", "margin_flips",
            "top5_shared_classes", "neighbour_samples", "neighbour_agreements", "sketches", "device_class",
        ] + Self.summed
        let values: SQLArguments = [
            lastIngestOrder, key.agentID, key.assignmentID, -lastIngestOrder, startedAtMillis, endedAtMillis, klDivergenceSum,
            maxAbsDiff, key.kernelPath, ingestedAt, referenceMemoryBytes, candidateMemoryBytes, measures.marginFlips,
            measures.topFiveSharedClasses, measures.neighbours.samples, measures.neighbours.agreements,
            try measures.sketches.map(SketchCoding.encode), key.deviceClass,
        ] + SQLArguments(Self.summed.map { sums[$0] ?? 0 })
        try db.execute(sql: insertStatement(into: "windows", columns: columns), arguments: values)
        let classColumns = ["ingest_order", "class"] + Self.summedByClass
        for (index, counts) in classes {
            try db.execute(
                sql: insertStatement(into: "window_classes", columns: classColumns),
                arguments: [lastIngestOrder, index] + SQLArguments(Self.summedByClass.map { counts[$0] ?? 0 }))
        }
    }

    private static func sum(_ total: Double?, _ value: Double?) -> Double? {
        guard let value else { return total }
        return (total ?? 0) + value
    }

    private static func largest<Value: Comparable>(_ current: Value?, _ value: Value?) -> Value? {
        guard let value else { return current }
        return max(current ?? value, value)
    }
}
