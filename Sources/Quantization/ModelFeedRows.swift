import Foundation
import Inference

/// Rows of an .npz as feeds for a model's inputs: one array per input, named like it (a
/// single-input model also accepts a lone array under any name), the first axis counting rows.
/// `label` or `target`, when present, holds the ground truth and is never fed.
struct ModelFeedRows {
    let rows: Int
    let labels: Tensor?
    private let arrays: [String: Tensor]
    private let inputs: [TensorInfo]

    static let labelKeys = ["label", "target"]

    init(contentsOf url: URL, inputs: [TensorInfo]) throws(QuantizationError) {
        let fail = { (reason: String) in QuantizationError.unusableData(path: url.path, reason: reason) }
        var contents: [String: Tensor]
        do {
            contents = try NPZ.read(contentsOf: url)
        } catch {
            throw fail("\(error)")
        }
        labels = Self.labelKeys.lazy.compactMap { contents[$0] }.first
        for key in Self.labelKeys { contents[key] = nil }

        var arrays: [String: Tensor] = [:]
        if inputs.count == 1, contents[inputs[0].name] == nil, contents.count == 1, let only = contents.first {
            arrays[inputs[0].name] = only.value
        } else {
            for input in inputs {
                guard let array = contents[input.name] else {
                    throw fail("no array named '\(input.name)' for the model input of that name (arrays: \(contents.keys.sorted().joined(separator: ", ")))")
                }
                arrays[input.name] = array
            }
        }
        var rows: Int?
        for input in inputs {
            let array = arrays[input.name]!
            let fits = zip(array.shape.dropFirst(), input.shape.dropFirst()).allSatisfy { actual, expected in expected.map { $0 == actual } ?? true }
            guard let count = array.shape.first, array.shape.count == max(input.shape.count, 1), fits else {
                throw fail("array for input '\(input.name)' has shape \(array.shape); the model expects \(input.shape.map { $0.map(String.init) ?? "N" }) with rows first")
            }
            if let rows, rows != count { throw fail("arrays disagree on the number of rows (\(rows) and \(count))") }
            rows = count
        }
        guard let rows, rows > 0 else { throw fail("no rows") }
        if let labels, labels.shape.first != rows {
            throw fail("labels have shape \(labels.shape), expected \(rows) rows")
        }
        self.rows = rows
        self.arrays = arrays
        self.inputs = inputs
    }

    /// The feeds for `range` of rows, converted to each input's element type.
    func feeds(rows range: Range<Int>) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for input in inputs {
            let array = arrays[input.name]!
            let width = array.shape.dropFirst().reduce(1, *)
            let shape = [range.count] + array.shape.dropFirst()
            let window = (range.lowerBound * width)..<(range.upperBound * width)
            let rows = input.elementType == .int64
                ? Tensor(shape: shape, int64s: Array(array.int64s[window]))
                : Tensor(shape: shape, floats: Array(array.floats[window]))
            feeds[input.name] = try rows.converted(to: input.elementType)
        }
        return feeds
    }

    /// Consecutive row ranges of at most `size` rows covering every row, and never more rows than
    /// an input that fixes its batch dimension takes (ddddocr's recogniser declares [1, 1, 64, W]).
    func batches(of size: Int) -> [Range<Int>] {
        let size = inputs.compactMap { $0.shape.first ?? nil }.reduce(size) { min($0, max($1, 1)) }
        return stride(from: 0, to: rows, by: size).map { $0..<min($0 + size, rows) }
    }
}
