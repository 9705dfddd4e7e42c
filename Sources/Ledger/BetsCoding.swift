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
    /// Written byte by byte, like `decode` reads: every batch writes back the rows it touched.
    static func encode(_ bets: EvidenceTotals.Bets) -> String {
        guard !bets.isEmpty else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        for (part, tally) in [bets.pairedDifference, bets.disagreement, bets.floor].enumerated() {
            if part > 0 { bytes.append(UInt8(ascii: "|")) }
            for (position, step) in tally.countsByStep.keys.sorted().enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: " ")) }
                appendDecimal(step, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                for (value, count) in tally.countsByStep[step]!.enumerated() {
                    if value > 0 { bytes.append(UInt8(ascii: "/")) }
                    appendDecimal(count, to: &bytes)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        precondition(value >= 0, "counts and steps are never negative, got \(value)")
        if value >= 10 { appendDecimal(value / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// Parses the bytes directly: the coordinator reads a slice's row for every batch that touches it,
    /// and splitting Swift strings by character cost a fifth of its CPU at 10,000 agents.
    static func decode(_ text: String, column: String) throws -> EvidenceTotals.Bets {
        guard !text.isEmpty else { return EvidenceTotals.Bets() }
        var scanner = Scanner(bytes: Array(text.utf8))
        var tallies: [BettingTally] = []
        for kind in [BettingTally.Kind.pairedDifference, .rate, .rate] {
            if !tallies.isEmpty && !scanner.take("|") { throw malformed(text, column) }
            var counts: [Int: [Int]] = [:]
            while let next = scanner.peek, next != UInt8(ascii: "|") {
                if !counts.isEmpty && !scanner.take(" ") { throw malformed(text, column) }
                guard let step = scanner.number(), scanner.take(":"), 0..<BettingTally.ladderSteps ~= step, counts[step] == nil
                else { throw malformed(text, column) }
                var values: [Int] = []
                repeat {
                    guard let value = scanner.number() else { throw malformed(text, column) }
                    values.append(value)
                } while scanner.take("/")
                guard values.count == kind.values.count else { throw malformed(text, column) }
                counts[step] = values
            }
            tallies.append(BettingTally(kind, countsByStep: counts))
        }
        guard scanner.isAtEnd else { throw malformed(text, column) }
        return EvidenceTotals.Bets(pairedDifference: tallies[0], disagreement: tallies[1], floor: tallies[2])
    }

    private static func malformed(_ text: String, _ column: String) -> LedgerError {
        .unexpectedValue(
            column: column,
            value: "\(text) (expected 3 parts separated by |, each a list of step:count/count[/count] with steps in "
                + "0..<\(BettingTally.ladderSteps), each listed once: 3 counts in the first part, 2 in the others)")
    }

    /// Reads unsigned decimal numbers and single bytes off the front of the text.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index == bytes.count }
        var peek: UInt8? { isAtEnd ? nil : bytes[index] }

        mutating func take(_ byte: Unicode.Scalar) -> Bool {
            guard peek == UInt8(ascii: byte) else { return false }
            index += 1
            return true
        }

        /// Nil when no digit comes next or the number would overflow.
        mutating func number() -> Int? {
            var value = 0
            let start = index
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflow1 && !overflow2 else { return nil }
                value = sum
                index += 1
            }
            return index > start ? value : nil
        }
    }
}
