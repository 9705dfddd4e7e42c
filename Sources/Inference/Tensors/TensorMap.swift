/// ONNX's map(K, V) as the ai.onnx.ml operators use it (DictVectorizer, CastMap, ZipMap): scalar
/// values under int64 or string keys, held as a 1-D tensor of keys and one of values. Keys are
/// kept sorted (strings by their UTF-8 bytes) and unique, a later entry replacing an earlier one,
/// so that a map has one form, as onnxruntime's std::map has.
public struct TensorMap: Sendable, Equatable {
    public let keys: Tensor
    public let values: Tensor

    public init(keys: Tensor, values: Tensor) throws {
        guard keys.shape.count == 1, values.shape.count == 1, keys.count == values.count else {
            throw InferenceError.invalidOperand("a map needs as many keys as values, each 1-D: keys \(keys.shape), values \(values.shape)")
        }
        let order: [Int]
        switch keys.storage {
        case .string(let names):
            order = Self.sortedUnique(names.indices, by: { names[$0] }, less: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        case .int64(let numbers):
            order = Self.sortedUnique(numbers.indices, by: { numbers[$0] }, less: <)
        default:
            throw InferenceError.invalidOperand("map keys must be int64 or string, got \(keys.elementType.rawValue)")
        }
        self.keys = keys.gathered(order, shape: [order.count])
        self.values = values.gathered(order, shape: [order.count])
    }

    public var count: Int { keys.count }

    /// Positions of the entries in key order, the last of equal keys kept.
    private static func sortedUnique<Key: Equatable>(_ positions: Range<Int>, by key: (Int) -> Key, less: (Key, Key) -> Bool) -> [Int] {
        let sorted = positions.sorted { less(key($0), key($1)) || (key($0) == key($1) && $0 < $1) }
        return sorted.indices.filter { index in index + 1 == sorted.count || key(sorted[index + 1]) != key(sorted[index]) }.map { sorted[$0] }
    }
}
