/// ArgMax and ArgMin: the index of the largest (smallest) element along an axis, as int64; ties go
/// to the first index, or the last with select_last_index.
struct ArgExtremum: SingleOutputOperator {
    let axis: Int
    let keepsDimension: Bool
    let selectsLastIndex: Bool
    let seeksMinimum: Bool

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
        keepsDimension = try context.attributes.int("keepdims", default: 1) != 0
        selectsLastIndex = try context.attributes.int("select_last_index", default: 0) != 0
        seeksMinimum = context.node.opType == "ArgMin"
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        // Integers compare as Int64 so large int64 values keep their exact order.
        let result = try x.elementType.isFloatingPoint ? indices(x.floats, x.shape, axis) : indices(x.int64s, x.shape, axis)
        var shape = x.shape
        if keepsDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
        return Tensor(shape: shape, int64s: result)
    }

    private func indices<T: Comparable>(_ values: [T], _ shape: [Int], _ axis: Int) throws -> [Int64] {
        let length = shape[axis]
        guard length > 0 else { throw InferenceError.invalidOperand("\(seeksMinimum ? "ArgMin" : "ArgMax") over an empty axis") }
        let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        var result: [Int64] = []
        result.reserveCapacity(outer * inner)
        for block in 0..<outer {
            for offset in 0..<inner {
                let base = block * length * inner + offset
                var best = 0
                for position in 1..<length {
                    let candidate = values[base + position * inner], current = values[base + best * inner]
                    let better = seeksMinimum ? candidate < current : candidate > current
                    if better || (selectsLastIndex && candidate == current) { best = position }
                }
                result.append(Int64(best))
            }
        }
        return result
    }
}

extension ArgExtremum: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard var shape = inputs.first ?? nil else { return [] }
        let axis = try normalizedAxis(axis, rank: shape.count)
        if keepsDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
        return [shape]
    }
}
