import Foundation

extension Tensor {
    /// The elements of a string operand.
    func stringOperand(_ role: String) throws -> [String] {
        guard let strings else { throw InferenceError.invalidOperand("\(role) must be a string tensor, got \(elementType.rawValue)") }
        return strings
    }
}

/// StringConcat: the two operands' strings joined element by element, with broadcasting.
struct StringConcat: SingleOutputOperator {
    let broadcasts = ShapeKeyedCache<Broadcasting>()

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let left = try inputs.required(0), right = try inputs.required(1)
        let broadcasting = try broadcasts.broadcasting(left.shape, right.shape)
        return Tensor(shape: broadcasting.shape, strings: broadcasting.apply(try left.stringOperand("X"), try right.stringOperand("Y"), +))
    }
}

/// StringSplit: each string split at `delimiter` (or at runs of whitespace without one, as Python's
/// str.split does), at most `maxsplit` times; the pieces padded with empty strings to the longest
/// split along a new last axis, and each string's piece count.
struct StringSplit: Operator {
    let delimiter: String
    let maxSplits: Int?

    init(_ context: OperatorContext) throws {
        delimiter = try context.attributes.string("delimiter", default: "")
        maxSplits = try context.attributes.int("maxsplit")
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        let pieces = try x.stringOperand("X").map(split)
        let width = pieces.map(\.count).max() ?? 0
        outputs.append(Tensor(shape: x.shape + [width], strings: pieces.flatMap { $0 + Array(repeating: "", count: width - $0.count) }))
        outputs.append(Tensor(shape: x.shape, int64s: pieces.map { Int64($0.count) }))
    }

    private func split(_ text: String) -> [String] {
        let limit = maxSplits ?? .max
        guard !delimiter.isEmpty else {
            // Whitespace runs separate; leading and trailing whitespace gives no empty piece.
            var pieces: [String] = [], rest = Substring(text).drop(while: \.isWhitespace)
            while !rest.isEmpty {
                if pieces.count == limit {
                    pieces.append(String(rest.reversed().drop(while: \.isWhitespace).reversed()))
                    break
                }
                let word = rest.prefix { !$0.isWhitespace }
                pieces.append(String(word))
                rest = rest.dropFirst(word.count).drop(while: \.isWhitespace)
            }
            return pieces
        }
        var pieces: [String] = [], rest = Substring(text)
        while pieces.count < limit, let range = rest.range(of: delimiter) {
            pieces.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        return pieces + [String(rest)]
    }
}

/// StringNormalizer: stopwords removed (case-sensitively or not), then the case changed. A 1-D or
/// [1, C] input keeps its form; when every string is removed, one empty string remains.
struct StringNormalizer: SingleOutputOperator {
    enum CaseChange: String, CaseIterable { case none = "NONE", lower = "LOWER", upper = "UPPER" }

    let caseChange: CaseChange
    let caseSensitive: Bool
    let stopwords: Set<String>

    init(_ context: OperatorContext) throws {
        caseChange = try context.attributes.choice("case_change_action", default: CaseChange.none)
        caseSensitive = try context.attributes.int("is_case_sensitive", default: 0) != 0
        let words = try context.attributes.strings("stopwords") ?? []
        stopwords = Set(caseSensitive ? words : words.map { $0.lowercased() })
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count == 1 || (x.shape.count == 2 && x.shape[0] == 1) else {
            throw InferenceError.invalidOperand("StringNormalizer takes [C] or [1, C], got \(x.shape)")
        }
        var kept = try x.stringOperand("X").filter { !stopwords.contains(caseSensitive ? $0 : $0.lowercased()) }
        kept = kept.map { word in
            switch caseChange {
            case .none: word
            case .lower: word.lowercased()
            case .upper: word.uppercased()
            }
        }
        if kept.isEmpty { kept = [""] }
        return Tensor(shape: x.shape.count == 1 ? [kept.count] : [1, kept.count], strings: kept)
    }
}

/// RegexFullMatch: whether each string matches the pattern as a whole.
struct RegexFullMatch: SingleOutputOperator {
    let expression: NSRegularExpression

    init(_ context: OperatorContext) throws {
        let pattern = try context.attributes.string("pattern", default: "")
        do {
            expression = try NSRegularExpression(pattern: "^(?:\(pattern))$")
        } catch {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "pattern", reason: "is not a valid regular expression: \(pattern)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let matches = try x.stringOperand("X").map { text in
            expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        return Tensor(shape: x.shape, bools: matches)
    }
}
