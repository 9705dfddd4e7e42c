import FleetProtocol
import Ledger
import Operations

/// The evidence of a rollout on one screen: per stage, the whole and each judged slice with its n,
/// estimate, bounds, where the bounds sit among the policy's bands, and the outcome.
enum DecisionTable {
    struct Row {
        var stage: Int?
        var slice: String
        var metric: String
        var n: Int
        var statistic: Double
        var lowerBound: Double
        var upperBound: Double
        var outcome: String
        var shipBelow: Double?
        var stayFP16Above: Double?
    }

    static func render(_ rows: [Row]) -> String {
        TextTable.render(
            columns: ["stage", "slice", "metric", "n", "drop", "bounds", "band", "decision"],
            rows: rows.map { row in
                [
                    row.stage.map { "\($0 + 1)" } ?? "-", row.slice, row.metric, "\(row.n)", "\(Percent(row.statistic))",
                    "[\(Percent(row.lowerBound)), \(Percent(row.upperBound))]", band(of: row), row.outcome,
                ]
            })
    }

    /// Where the interval sits: wholly in one band, or across an edge.
    private static func band(of row: Row) -> String {
        guard let ship = row.shipBelow, let stay = row.stayFP16Above else { return "-" }
        if row.upperBound < ship { return "ship (< \(Percent(ship, digits: 0)))" }
        if row.lowerBound > stay { return "stay-fp16 (> \(Percent(stay, digits: 0)))" }
        if row.lowerBound >= ship && row.upperBound <= stay { return "needs-qat" }
        return "across \(Percent(row.upperBound < stay ? ship : stay, digits: 0))"
    }

    static func rows(_ decision: AdminAPI.Decision) -> [Row] {
        let whole = Row(
            stage: decision.stage, slice: "all", metric: decision.metric, n: decision.n, statistic: decision.statistic,
            lowerBound: decision.lowerBound, upperBound: decision.upperBound, outcome: decision.outcome,
            shipBelow: decision.shipBelow, stayFP16Above: decision.stayFP16Above)
        return [whole] + (decision.slices ?? []).map {
            Row(stage: decision.stage, slice: $0.slice, metric: $0.metric, n: $0.n, statistic: $0.statistic,
                lowerBound: $0.lowerBound, upperBound: $0.upperBound, outcome: $0.outcome,
                shipBelow: decision.shipBelow, stayFP16Above: decision.stayFP16Above)
        }
    }

    static func rows(_ record: DecisionRecord) -> [Row] {
        let judged = [("all", record.decision)] + record.slices.map { ($0.slice.description, $0.decision) }
        return judged.map { slice, decision in
            Row(stage: record.stage, slice: slice, metric: decision.metric, n: decision.n, statistic: decision.statistic,
                lowerBound: decision.lowerBound, upperBound: decision.upperBound, outcome: decision.outcome.rawValue,
                shipBelow: record.decision.shipBelow, stayFP16Above: record.decision.stayFP16Above)
        }
    }
}
