import ShadowEval

/// The betting processes of a stage or slice as `stage_totals.bets` and `slice_totals.bets` store
/// them: text an engineer can read in sqlite3. Three parts separated by `|`, the labelled paired
/// difference, the disagreement rate and the noise floor's rate; each lists its bet sizes (ladder
/// steps) in ascending order as `step:count/count[/count]`, one count per value of the process
/// (paired difference: candidate alone right / alike / reference alone right; rates: agree /
/// disagree). No windows yet: the empty string.
///
///     40:0/97/3 41:1/196/3|40:97/3 41:195/5|
enum BetsCoding {
    static func encode(_ bets: EvidenceTotals.Bets) -> String {
        guard !bets.isEmpty else { return "" }
        return [bets.pairedDifference, bets.disagreement, bets.floor].map(\.description).joined(separator: "|")
    }

    static func decode(_ text: String, column: String) throws -> EvidenceTotals.Bets {
        guard !text.isEmpty else { return EvidenceTotals.Bets() }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw LedgerError.unexpectedValue(column: column, value: "\(text) (3 parts separated by | expected, found \(parts.count))")
        }
        return EvidenceTotals.Bets(
            pairedDifference: try tally(.pairedDifference, parts[0], text: text, column: column),
            disagreement: try tally(.rate, parts[1], text: text, column: column),
            floor: try tally(.rate, parts[2], text: text, column: column))
    }

    private static func tally(_ kind: BettingTally.Kind, _ part: Substring, text: String, column: String) throws -> BettingTally {
        var counts: [Int: [Int]] = [:]
        for entry in part.split(separator: " ") {
            let fields = entry.split(separator: ":", omittingEmptySubsequences: false)
            let values = fields.count == 2 ? fields[1].split(separator: "/", omittingEmptySubsequences: false).map { Int($0) } : []
            guard fields.count == 2, let step = Int(fields[0]), 0..<BettingTally.ladderSteps ~= step, counts[step] == nil,
                values.count == kind.values.count, values.allSatisfy({ ($0 ?? -1) >= 0 })
            else {
                throw LedgerError.unexpectedValue(
                    column: column,
                    value: "\(text) (\(entry) is not step:count\(String(repeating: "/count", count: kind.values.count - 1)) "
                        + "with a step in 0..<\(BettingTally.ladderSteps) listed once)")
            }
            counts[step] = values.map { $0! }
        }
        return BettingTally(kind, countsByStep: counts)
    }
}
