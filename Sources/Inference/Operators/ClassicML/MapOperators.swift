import Foundation

/// ai.onnx.ml ZipMap: each row of class scores as a map from the class labels to the scores.
struct ZipMap: ValueOperator {
    let labels: Tensor

    init(_ context: OperatorContext) throws {
        let strings = try context.attributes.strings("classlabels_strings") ?? []
        let integers = try context.attributes.ints("classlabels_int64s") ?? []
        guard strings.isEmpty != integers.isEmpty else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "classlabels_strings",
                                                  reason: "exactly one of classlabels_strings and classlabels_int64s must list the labels")
        }
        labels = strings.isEmpty ? Tensor(shape: [integers.count], int64s: integers.map(Int64.init)) : Tensor(shape: [strings.count], strings: strings)
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let x = try inputs.requiredTensor(0)
        let rows = try FeatureRows(x)
        guard rows.features == labels.count else {
            throw InferenceError.invalidOperand("X has \(rows.features) scores per row for \(labels.count) class labels")
        }
        let maps = try (0..<rows.rows).map { row in
            try TensorMap(keys: labels, values: Tensor(shape: [rows.features], floats: Array(rows.values[(row * rows.features)..<((row + 1) * rows.features)])))
        }
        outputs.append(.maps(maps))
    }
}

/// ai.onnx.ml DictVectorizer: a map's values laid out in the order of the vocabulary, a row
/// [1, vocabulary size]; a word the map lacks gives zero (an empty string for string values).
struct DictVectorizer: ValueOperator {
    let vocabulary: CategoryLookup
    let size: Int

    init(_ context: OperatorContext) throws {
        if let strings = try context.attributes.strings("string_vocabulary"), !strings.isEmpty {
            vocabulary = CategoryLookup(keys: Tensor(shape: [strings.count], strings: strings))
            size = strings.count
        } else if let integers = try context.attributes.ints("int64_vocabulary"), !integers.isEmpty {
            vocabulary = CategoryLookup(keys: Tensor(shape: [integers.count], int64s: integers.map(Int64.init)))
            size = integers.count
        } else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "string_vocabulary",
                                                  reason: "one of string_vocabulary and int64_vocabulary must list the words")
        }
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        guard case .map(let map) = try inputs.required(0) else { throw InferenceError.invalidOperand("X must be a map") }
        // Where each vocabulary word's value comes from: its entry in the map, or the zero after the map's values.
        var sources = [Int](repeating: map.count, count: size)
        for (entry, word) in vocabulary.positions(of: map.keys).enumerated() {
            if let word { sources[word] = entry }
        }
        let zero: Tensor = map.values.elementType == .string ? Tensor(shape: [1], strings: [""])
            : try Tensor(shape: [1], int64s: [0]).converted(to: map.values.elementType)
        let padded = Tensor(shape: [map.count + 1],
                            storage: try TensorStorage.interleaved([map.values.storage, zero.storage], blocks: 1, blockSizes: [map.count, 1]))
        outputs.append(.tensor(padded.gathered(sources, shape: [1, size])))
    }
}

/// ai.onnx.ml CastMap: a map(int64, string | float) to a row of floats, int64s or strings, in key
/// order: DENSE gives one value per entry, SPARSE `max_map` values, key k at position k, padded
/// with 0 ("0.f" for strings, as onnxruntime pads).
struct CastMap: ValueOperator {
    enum Target: String, CaseIterable { case float = "TO_FLOAT", string = "TO_STRING", int64 = "TO_INT64" }
    enum Form: String, CaseIterable { case dense = "DENSE", sparse = "SPARSE" }

    let target: Target
    let form: Form
    let maximum: Int

    init(_ context: OperatorContext) throws {
        target = try context.attributes.choice("cast_to", default: .float)
        form = try context.attributes.choice("map_form", default: .dense)
        maximum = try context.attributes.int("max_map", default: 1)
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        guard case .map(let map) = try inputs.required(0), map.keys.elementType == .int64 else {
            throw InferenceError.invalidOperand("X must be a map with int64 keys")
        }
        // Per output position, the map entry it takes (nil: padding).
        var entries = [Int?](repeating: nil, count: form == .dense ? map.count : maximum)
        for (entry, key) in map.keys.int64s.enumerated() {
            if form == .dense {
                entries[entry] = entry
            } else {
                guard key >= 0 else { throw InferenceError.invalidOperand("a SPARSE map cannot hold the negative key \(key)") }
                if key < maximum { entries[Int(key)] = entry }
            }
        }
        let shape = [1, entries.count], strings = map.values.strings, floats = map.values.floats
        let result: Tensor
        switch target {
        case .float:
            result = Tensor(shape: shape, floats: try entries.map { entry in
                guard let entry else { return 0 }
                return try strings.map { try Self.number($0[entry]) } ?? floats[entry]
            })
        case .int64:
            result = Tensor(shape: shape, int64s: try entries.map { entry in
                guard let entry else { return 0 }
                return try strings.map { try Self.integer($0[entry]) } ?? Int64(floats[entry])
            })
        case .string:
            result = Tensor(shape: shape, strings: entries.map { entry in
                guard let entry else { return "0.f" }
                return strings?[entry] ?? String(format: "%f", floats[entry])
            })
        }
        outputs.append(.tensor(result))
    }

    /// A string value read as an integer, as std::stoll reads it (leading digits).
    private static func integer(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "-" || $0 == "+" }
        guard let value = Int64(digits) else { throw InferenceError.invalidOperand("map value '\(text)' is not an integer") }
        return value
    }

    /// A string value read as a number, as std::stof reads it.
    private static func number(_ text: String) throws -> Float {
        guard let value = Float(text.trimmingCharacters(in: .whitespaces)) else {
            throw InferenceError.invalidOperand("map value '\(text)' is not a number")
        }
        return value
    }
}
