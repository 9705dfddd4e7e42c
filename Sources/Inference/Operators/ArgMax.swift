/// Index of the largest element along an axis, as int64.
struct ArgMax: Operator {
    let axis: Int
    let keepsDimension: Bool
    let selectsLastIndex: Bool

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
        keepsDimension = try context.attributes.int("keepdims", default: 1) != 0
        selectsLastIndex = try context.attributes.int("select_last_index", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        let values = x.floats
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let length = x.shape[axis]
        guard length > 0 else { throw InferenceError.invalidOperand("ArgMax over an empty axis") }
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape[..<axis].reduce(1, *)
        var result: [Int64] = []
        result.reserveCapacity(outer * inner)
        for block in 0..<outer {
            for offset in 0..<inner {
                let base = block * length * inner + offset
                var best = 0
                for position in 1..<length {
                    let candidate = values[base + position * inner], current = values[base + best * inner]
                    if candidate > current || (selectsLastIndex && candidate == current) { best = position }
                }
                result.append(Int64(best))
            }
        }
        var shape = x.shape
        if keepsDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
        return [Tensor(shape: shape, int64s: result)]
    }
}
