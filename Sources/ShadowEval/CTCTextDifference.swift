/// Text recognition with a CTC head (CRNN, SVTR): the output holds one score per class at each
/// timestep; each model's output is decoded greedily (the best class per step, repeats collapsed,
/// blanks dropped) and a sample is materially different when the decoded texts differ or, with
/// `maximumCharacterErrorRate`, when the candidate's text is further than that from the reference's
/// (edit distance over the reference's length).
public struct CTCTextDifference: Sendable, Equatable, Codable {
    /// Which axis of a [_, _, classes] output is time. A two-axis output is [time, classes].
    public enum SequenceLayout: String, Sendable, Equatable, Codable, CaseIterable {
        /// [batch, time, classes] when the first axis is 1, [time, batch, classes] when the second is:
        /// right for any single-image request; a batched request needs the layout stated.
        case auto
        /// [batch, time, classes], as PP-OCR's recognisers write it.
        case batchFirst = "batch-first"
        /// [time, batch, classes], as a sequence-first LSTM head (ddddocr's common.onnx) writes it.
        case timeFirst = "time-first"
    }

    public var blankIndex: Int
    public var maximumCharacterErrorRate: Double?
    public var sequenceLayout: SequenceLayout

    public init(blankIndex: Int = 0, maximumCharacterErrorRate: Double? = nil, sequenceLayout: SequenceLayout = .auto) {
        precondition(blankIndex >= 0, "blankIndex must not be negative, got \(blankIndex)")
        if let maximumCharacterErrorRate {
            precondition(
                maximumCharacterErrorRate >= 0 && maximumCharacterErrorRate < 1,
                "maximumCharacterErrorRate must be in [0, 1), got \(maximumCharacterErrorRate)")
        }
        self.blankIndex = blankIndex
        self.maximumCharacterErrorRate = maximumCharacterErrorRate
        self.sequenceLayout = sequenceLayout
    }

    /// Greedy CTC decoding of one sample's scores, `classes` per timestep, time-major: the best class
    /// of each step, a run of one class read once, blanks dropped (a blank between two equal classes
    /// keeps both: "l-l" reads "ll").
    public func decode(_ scores: [Float], classes: Int) -> [Int] {
        var labels: [Int] = []
        var previous = -1
        for start in stride(from: 0, to: scores.count, by: classes) {
            let best = OutputComparison.top1(scores[start..<(start + classes)])
            if best != previous && best != blankIndex { labels.append(best) }
            previous = best
        }
        return labels
    }

    /// Compares two decoded texts (class indices, blanks already dropped).
    public func isMateriallyDifferent(reference: [Int], candidate: [Int]) -> Bool {
        guard let maximumCharacterErrorRate else { return reference != candidate }
        return Self.characterErrorRate(reference: reference, candidate: candidate) > maximumCharacterErrorRate
    }

    /// Levenshtein distance over the reference's length; an empty reference gives 0 against an empty
    /// candidate and infinity against any other.
    public static func characterErrorRate(reference: [Int], candidate: [Int]) -> Double {
        let distance = editDistance(reference, candidate)
        guard !reference.isEmpty else { return distance == 0 ? 0 : .infinity }
        return Double(distance) / Double(reference.count)
    }

    /// Insertions, deletions and substitutions turning `a` into `b`.
    static func editDistance(_ a: [Int], _ b: [Int]) -> Int {
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, right) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
