/// A betting process as counts: how many observations landed on each value, per bet size they were
/// staked at. Windows are recorded in ingest order, each at the bet its earlier windows chose
/// (`BettingConfidenceSequence.betStep`), so the tally of a stage depends on that order; two tallies
/// of disjoint runs of windows merge by adding counts, which multiplies their wealth.
public struct BettingTally: Sendable, Hashable, CustomStringConvertible {
    /// What one observation can be.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A rate: 0 (agree, right) or 1 (disagree).
        case rate
        /// A paired difference of correctness, mapped from {-1, 0, 1} to {0, 1/2, 1}: the candidate
        /// alone right, both alike, the reference alone right. Its mean is (1 + drop) / 2.
        case pairedDifference = "paired-difference"

        /// Shared arrays, not literals: every window recorded and every wealth evaluated reads them.
        public var values: [Double] {
            switch self {
            case .rate: return Self.rateValues
            case .pairedDifference: return Self.pairedDifferenceValues
            }
        }
        private static let rateValues: [Double] = [0, 1]
        private static let pairedDifferenceValues: [Double] = [0, 0.5, 1]
    }

    /// How many bet sizes there are; steps are 0..<ladderSteps.
    public static let ladderSteps = BettingConfidenceSequence.ladderSteps

    public let kind: Kind
    /// Per ladder step that has observations, the count at each of `kind.values`.
    public private(set) var countsByStep: [Int: [Int]]
    /// Total observations at each value, whatever they were bet at: what the next bet is chosen from,
    /// kept as windows arrive so choosing it costs the same at any length.
    public private(set) var countsByValue: [Int]

    public init(_ kind: Kind, countsByStep: [Int: [Int]] = [:]) {
        precondition(countsByStep.allSatisfy { step, counts in
            0..<Self.ladderSteps ~= step && counts.count == kind.values.count && counts.allSatisfy { $0 >= 0 }
        }, "a \(kind) tally holds \(kind.values.count) nonnegative counts per ladder step")
        self.kind = kind
        self.countsByStep = countsByStep.filter { $0.value.contains { $0 > 0 } }
        countsByValue = countsByStep.values.reduce(into: Array(repeating: 0, count: kind.values.count)) { totals, counts in
            for index in totals.indices { totals[index] += counts[index] }
        }
    }

    public var observations: Int { countsByValue.reduce(0, +) }

    /// Records one window of observations, `counts[v]` of them at `kind.values[v]`, at the bet the
    /// observations recorded so far choose.
    public mutating func record(window counts: [Int]) {
        precondition(counts.count == kind.values.count, "a \(kind) window has \(kind.values.count) counts, got \(counts.count)")
        let size = counts.reduce(0, +)
        guard size > 0 else { return }
        let values = kind.values
        let step = BettingConfidenceSequence.betStep(
            observations: observations,
            sum: zip(values, countsByValue).reduce(0) { $0 + $1.0 * Double($1.1) },
            sumOfSquares: zip(values, countsByValue).reduce(0) { $0 + $1.0 * $1.0 * Double($1.1) },
            nextWindow: size)
        // Taken out and put back, so the array is not copied on write.
        var atStep = countsByStep.removeValue(forKey: step) ?? Array(repeating: 0, count: values.count)
        for index in values.indices {
            atStep[index] += counts[index]
            countsByValue[index] += counts[index]
        }
        countsByStep[step] = atStep
    }

    /// Adds the observations of another tally of the same kind: the wealth of one process run on
    /// their windows one after the other.
    public mutating func merge(_ other: BettingTally) {
        precondition(kind == other.kind, "cannot merge a \(other.kind) tally into a \(kind) tally")
        countsByStep.merge(other.countsByStep) { mine, theirs in zip(mine, theirs).map(+) }
        countsByValue = zip(countsByValue, other.countsByValue).map(+)
    }

    /// The confidence interval for the mean of the observations at level `alpha`.
    public func interval(alpha: Double) -> ClosedRange<Double> {
        BettingConfidenceSequence.interval(self, alpha: alpha)
    }

    /// Steps in ascending order, each with its counts: `34:2/55/3 35:3/82/5`.
    public var description: String {
        countsByStep.keys.sorted().map { step in
            "\(step):" + countsByStep[step]!.map(String.init).joined(separator: "/")
        }.joined(separator: " ")
    }
}
