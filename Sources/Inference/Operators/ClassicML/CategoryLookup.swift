/// Keys to their positions, for the ai.onnx.ml operators that map categories: strings, integers,
/// or floats compared bit by bit (every NaN matches a NaN key). A repeated key keeps its last position.
struct CategoryLookup: Sendable {
    private enum Key: Hashable {
        case string(String)
        case integer(Int64)
        case number(UInt64)
    }

    private let positions: [Key: Int]

    init(keys: Tensor) {
        var positions: [Key: Int] = [:]
        for (position, key) in Self.keys(of: keys).enumerated() { positions[key] = position }
        self.positions = positions
    }

    /// Each element's position among the keys, nil where it is none of them.
    func positions(of x: Tensor) -> [Int?] {
        Self.keys(of: x).map { positions[$0] }
    }

    private static func keys(of tensor: Tensor) -> [Key] {
        switch tensor.storage {
        case .string(let values): values.map(Key.string)
        case _ where tensor.elementType.isFloatingPoint:
            tensor.storage.doubles.map { .number($0.isNaN ? Double.nan.bitPattern : $0.bitPattern) }
        default: tensor.int64s.map(Key.integer)
        }
    }
}

/// A lookup with its values: each input element becomes the value at its key's position, or the
/// default (LabelEncoder, CategoryMapper).
struct CategoryMapping: Sendable {
    let lookup: CategoryLookup
    /// The values, then the default as one more element.
    let valuesAndDefault: Tensor

    init(keys: Tensor, values: Tensor, default fallback: Tensor, node: String) throws {
        guard keys.count == values.count, fallback.count == 1, fallback.elementType == values.elementType else {
            throw InferenceError.invalidAttribute(node: node, attribute: "keys",
                                                  reason: "\(keys.count) keys for \(values.count) values, with a default of \(fallback.count) \(fallback.elementType.rawValue)")
        }
        lookup = CategoryLookup(keys: keys)
        valuesAndDefault = Tensor(shape: [values.count + 1],
                                  storage: try TensorStorage.interleaved([values.storage, fallback.storage], blocks: 1, blockSizes: [values.count, 1]))
    }

    func map(_ x: Tensor) -> Tensor {
        let fallback = valuesAndDefault.count - 1
        return valuesAndDefault.gathered(lookup.positions(of: x).map { $0 ?? fallback }, shape: x.shape)
    }
}
