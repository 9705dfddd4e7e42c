import Foundation
import GRDB
import ShadowEval

/// The check behind `quantfleet ledger verify`: every stage's running totals against the SQL re-sum
/// of its stored windows, part by part, the betting processes against a replay of the windows in
/// ingest order, and every window numbered in ingest order.
public struct TotalsVerification: Sendable, Equatable {
    public var stagesChecked: Int
    public var windowsChecked: Int
    public var mismatches: [TotalsMismatch]

    public var passed: Bool { mismatches.isEmpty }

    static func run(_ db: any LedgerSession) throws -> TotalsVerification {
        var verification = TotalsVerification(stagesChecked: 0, windowsChecked: 0, mismatches: [])
        let stages = try Row.fetchAll(db, sql: """
            SELECT rollout_id, stage FROM stage_totals
            UNION SELECT a.rollout_id, a.stage FROM assignments a WHERE EXISTS (SELECT 1 FROM windows w WHERE w.assignment_id = a.id)
            ORDER BY rollout_id, stage
            """).map { StageKey(rolloutID: $0["rollout_id"], stage: $0["stage"]) }
        var running: [String: [Int: (totals: RunningTotals, throughIngestOrder: Int64)]] = [:]
        for rolloutID in Set(stages.map(\.rolloutID)) {
            for entry in try RunningTotalsStore.stages(db, rolloutID: rolloutID) {
                running[rolloutID, default: [:]][entry.stage] = (entry.totals, entry.throughIngestOrder)
            }
        }
        for stage in stages {
            let stored = running[stage.rolloutID]?[stage.stage]
            var resummed = try WindowResum.totals(db, stage: stage)
            // SQL sums counts in any order; the betting processes need the windows' order: a replay.
            let replayed = try WindowReplay.evidence(db, stage: stage)
            resummed.overall.bets = replayed.overall.bets
            for (key, slice) in replayed.slices { resummed.slices[key]?.bets = slice.bets }
            let order = try WindowResum.ingestOrder(db, stage: stage)
            verification.stagesChecked += 1
            verification.windowsChecked += resummed.overall.windows
            verification.mismatches += compare(stored?.totals ?? RunningTotals(), resummed, stage: stage)
            if order.unnumbered > 0 {
                verification.mismatches.append(TotalsMismatch(
                    stage, part: "ingest order", difference: "\(order.unnumbered) windows have no ingest_order"))
            }
            if (stored?.throughIngestOrder ?? 0) != order.last {
                verification.mismatches.append(TotalsMismatch(
                    stage, part: "ingest order",
                    difference: "the totals run through window \(stored?.throughIngestOrder ?? 0) in ingest order, "
                        + "the stage's last window is \(order.last)"))
            }
        }
        return verification
    }

    private static func compare(_ running: RunningTotals, _ resummed: RunningTotals, stage: StageKey) -> [TotalsMismatch] {
        var parts: [(String, Any, Any)] = [
            ("whole", running.overall, resummed.overall), ("cost", running.cost, resummed.cost),
            ("measures", summary(running.measures), summary(resummed.measures)),
        ]
        let keys = Set(running.slices.keys).union(resummed.slices.keys).sorted { $0.description < $1.description }
        for key in keys {
            parts.append(("slice \(key)", running.slices[key] ?? EvidenceTotals(), resummed.slices[key] ?? EvidenceTotals()))
        }
        return parts.compactMap { part, mine, theirs in
            let fields = FieldDifference.between(mine, theirs)
            guard !fields.isEmpty else { return nil }
            return TotalsMismatch(stage, part: part, difference: fields.map {
                "\($0.field) is \($0.running) in the running totals, \($0.resummed) in the windows"
            }.joined(separator: "; "))
        }
    }

    /// Measures with each sketch reduced to its bucket counts, so a difference reads as numbers.
    private static func summary(_ measures: WindowMeasures) -> MeasuresSummary {
        let sketches = measures.sketches
        func describe(_ sketch: LogHistogram?) -> String {
            guard let sketch else { return "none" }
            let buckets = sketch.buckets.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
            return "\(sketch.count) samples (\(sketch.zeros) zeros, \(sketch.notANumber) NaN, buckets [\(buckets)])"
        }
        return MeasuresSummary(
            marginFlips: measures.marginFlips, topFiveSharedClasses: measures.topFiveSharedClasses,
            neighbourSamples: measures.neighbours.samples, neighbourAgreements: measures.neighbours.agreements,
            klDivergenceSketch: describe(sketches?.klDivergences), maxAbsDiffSketch: describe(sketches?.maxAbsDiffs),
            referenceLatencySketch: describe(sketches?.referenceLatencyMicros),
            candidateLatencySketch: describe(sketches?.candidateLatencyMicros), latencyRatioSketch: describe(sketches?.latencyRatios))
    }

    private struct MeasuresSummary {
        var marginFlips: Int
        var topFiveSharedClasses: Int
        var neighbourSamples: Int
        var neighbourAgreements: Int
        var klDivergenceSketch: String
        var maxAbsDiffSketch: String
        var referenceLatencySketch: String
        var candidateLatencySketch: String
        var latencyRatioSketch: String
    }
}

/// A ledger's check (`LedgerReader.check`): damaged pages, or the running totals' verification.
public enum LedgerCheck: Sendable {
    /// `integrity_check`'s findings; the totals are not read from damaged pages.
    case damagedPages([String])
    case totals(TotalsVerification)
}

/// One part of one stage whose running totals differ from its windows.
public struct TotalsMismatch: Sendable, Equatable, CustomStringConvertible {
    public var rolloutID: String
    public var stage: Int
    /// "whole", "cost", "measures", "slice class 3", "ingest order".
    public var part: String
    public var difference: String

    init(_ stage: StageKey, part: String, difference: String) {
        rolloutID = stage.rolloutID
        self.stage = stage.stage
        self.part = part
        self.difference = difference
    }

    /// Stages are shown 1-based, as `rollout status` shows them.
    public var description: String { "rollout \(rolloutID) stage \(stage + 1), \(part): \(difference)" }
}

/// The stored properties of two values of one type that differ, by name.
enum FieldDifference {
    static func between(_ running: Any, _ resummed: Any) -> [(field: String, running: String, resummed: String)] {
        zip(Mirror(reflecting: running).children, Mirror(reflecting: resummed).children).compactMap { mine, theirs in
            let (left, right) = (describe(mine.value), describe(theirs.value))
            return left == right ? nil : (mine.label ?? "?", left, right)
        }
    }

    /// Optionals without their "Optional(...)" wrapping.
    private static func describe(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return "\(value)" }
        return mirror.children.first.map { "\($0.value)" } ?? "none"
    }
}

extension LedgerReader {
    /// Checks every stage's running totals against the SQL re-sum of its windows.
    public func verifyRunningTotals() throws -> TotalsVerification {
        try store.read { db in try TotalsVerification.run(db) }
    }
}
