/// TfIdfVectorizer: how often each n-gram of a pool (of integers or of strings) occurs in each row
/// of X, with the elements of an n-gram consecutive or up to max_skip_count apart, weighted by
/// mode: TF the counts, IDF the weight (1 without weights) where the count is nonzero, TFIDF the
/// counts times the weights. [C] gives [max(ngram_indexes) + 1]; [B, C] one such row per row.
struct TfIdfVectorizer: SingleOutputOperator {
    enum Mode: String { case tf = "TF", idf = "IDF", tfidf = "TFIDF" }

    /// A pool entry or an element of X; a pool is all integers or all strings.
    private enum Token: Hashable {
        case integer(Int64)
        case text(String)
    }

    let mode: Mode
    let gramLengths: ClosedRange<Int>
    let maxSkipCount: Int
    let outputSize: Int
    /// The weights moved to their n-grams' output coordinates: the schema and onnxruntime give the
    /// i-th weight to the pool's i-th n-gram (onnx's reference reads it by coordinate instead).
    let weights: [Float]?
    private let poolHoldsStrings: Bool
    /// Every pool n-gram whose length is within gramLengths, with its output coordinate.
    private let coordinates: [[Token]: Int]

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        func invalid(_ attribute: String, _ reason: String) -> InferenceError {
            .invalidAttribute(node: context.node.name, attribute: attribute, reason: reason)
        }
        let modeName = try attributes.string("mode", default: "")
        guard let mode = Mode(rawValue: modeName) else { throw invalid("mode", "must be TF, IDF or TFIDF, got '\(modeName)'") }
        self.mode = mode
        let shortest = try attributes.requiredInt("min_gram_length"), longest = try attributes.requiredInt("max_gram_length")
        guard 1 <= shortest, shortest <= longest else {
            throw invalid("min_gram_length", "must be at least 1 and at most max_gram_length (\(longest)), got \(shortest)")
        }
        gramLengths = shortest...longest
        maxSkipCount = try attributes.requiredInt("max_skip_count")
        guard maxSkipCount >= 0 else { throw invalid("max_skip_count", "must not be negative, got \(maxSkipCount)") }

        let strings = try attributes.strings("pool_strings"), integers = try attributes.ints("pool_int64s")
        guard (strings == nil) != (integers == nil) else { throw invalid("pool_strings", "or pool_int64s must be set, and only one of them") }
        poolHoldsStrings = strings != nil
        let pool = strings.map { $0.map(Token.text) } ?? integers!.map { Token.integer(Int64($0)) }
        let starts = try attributes.ints("ngram_counts") ?? []
        let indexes = try attributes.ints("ngram_indexes") ?? []
        guard let largestIndex = indexes.max(), indexes.allSatisfy({ $0 >= 0 }) else {
            throw invalid("ngram_indexes", "must give every pool n-gram a non-negative output coordinate")
        }
        outputSize = largestIndex + 1

        // The pool's n-grams are numbered in pool order, every length counted, and ngram_indexes maps
        // those numbers to output coordinates. A repeated n-gram would have two; onnxruntime refuses it too.
        var coordinates: [[Token]: Int] = [:], number = 0
        for (lengthIndex, start) in starts.enumerated() {
            let length = lengthIndex + 1
            let end = lengthIndex + 1 < starts.count ? starts[lengthIndex + 1] : pool.count
            guard 0 <= start, start <= end, end <= pool.count, (end - start) % length == 0 else {
                throw invalid("ngram_counts", "must be ascending offsets into the pool of \(pool.count) that leave whole n-grams of each length, got \(starts)")
            }
            let grams = (end - start) / length
            guard number + grams <= indexes.count else {
                throw invalid("ngram_indexes", "has \(indexes.count) coordinates, fewer than the pool's n-grams")
            }
            if gramLengths.contains(length) {
                for gram in 0..<grams {
                    let first = start + gram * length, tokens = Array(pool[first..<first + length])
                    guard coordinates.updateValue(indexes[number + gram], forKey: tokens) == nil else {
                        throw invalid("pool_\(poolHoldsStrings ? "strings" : "int64s")", "repeats an earlier \(length)-gram at offset \(first)")
                    }
                }
            }
            number += grams
        }
        self.coordinates = coordinates

        if let poolWeights = try attributes.floats("weights") {
            guard poolWeights.count == indexes.count else {
                throw invalid("weights", "has \(poolWeights.count) values for \(indexes.count) pool n-grams")
            }
            var atCoordinates = [Float](repeating: 0, count: outputSize)
            for (number, coordinate) in indexes.enumerated() { atCoordinates[coordinate] = poolWeights[number] }
            weights = atCoordinates
        } else {
            weights = nil
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count <= 2 else { throw InferenceError.invalidOperand("TfIdfVectorizer takes [C] or [B, C], got \(x.shape)") }
        let tokens = try tokens(of: x)
        let rows = x.shape.count == 2 ? x.shape[0] : 1
        let rowLength = rows == 0 ? 0 : tokens.count / rows
        var counts = [Float](repeating: 0, count: rows * outputSize)
        for row in 0..<rows {
            count(tokens[row * rowLength..<(row + 1) * rowLength], into: &counts, at: row * outputSize)
        }
        let values = counts.enumerated().map { position, count in
            let weight = weights?[position % outputSize] ?? 1
            return switch mode {
            case .tf: count
            case .idf: count > 0 ? weight : 0
            case .tfidf: count * weight
            }
        }
        return Tensor(shape: x.shape.count == 2 ? [rows, outputSize] : [outputSize], floats: values)
    }

    private func tokens(of x: Tensor) throws -> [Token] {
        if poolHoldsStrings { return try x.stringOperand("X").map(Token.text) }
        guard x.elementType == .int32 || x.elementType == .int64 else {
            throw InferenceError.invalidOperand("TfIdfVectorizer with pool_int64s takes int32 or int64 X, got \(x.elementType.rawValue)")
        }
        return x.int64s.map(Token.integer)
    }

    /// Adds one row's n-gram occurrences to `counts` from `base`: for each skip distance from 1 to
    /// max_skip_count + 1, the n-grams whose elements lie that far apart. Unigrams do not depend on
    /// the distance, so only the first pass counts them.
    private func count(_ row: ArraySlice<Token>, into counts: inout [Float], at base: Int) {
        for distance in 1...(maxSkipCount + 1) {
            let shortest = distance == 1 ? gramLengths.lowerBound : max(gramLengths.lowerBound, 2)
            guard shortest <= gramLengths.upperBound else { break }
            for start in row.indices {
                var gram: [Token] = []
                for position in stride(from: start, to: row.endIndex, by: distance).prefix(gramLengths.upperBound) {
                    gram.append(row[position])
                    if gram.count >= shortest, let coordinate = coordinates[gram] { counts[base + coordinate] += 1 }
                }
            }
        }
    }
}
