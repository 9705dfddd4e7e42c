/// CumSum and CumProd along the axis given as input 1, optionally exclusive (each position leaves
/// itself out) and reversed (from the end).
struct CumulativeSum: SingleOutputOperator, ShapePreserving {
    let multiplies: Bool
    let exclusive: Bool
    let reverse: Bool

    init(_ context: OperatorContext) throws {
        multiplies = context.node.opType == "CumProd"
        exclusive = try context.attributes.int("exclusive", default: 0) != 0
        reverse = try context.attributes.int("reverse", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard let requested = inputs.integers(1)?.first else { throw InferenceError.invalidOperand("axis is required") }
        let axis = try normalizedAxis(requested, rank: x.shape.count)
        if x.elementType.isFloatingPoint {
            return Tensor(shape: x.shape, floats: accumulate(x.floats, shape: x.shape, axis: axis, multiplies ? (*) : (+)), as: x.elementType)
        }
        let values = accumulate(x.int64s, shape: x.shape, axis: axis, multiplies ? (&*) : (&+))
        return try Tensor(shape: x.shape, int64s: values).converted(to: x.elementType)
    }

    private func accumulate<T: Numeric>(_ values: [T], shape: [Int], axis: Int, _ combine: (T, T) -> T) -> [T] {
        let length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        let start: T = multiplies ? 1 : 0
        var result = values
        for block in 0..<outer {
            for offset in 0..<inner {
                var running = start
                for step in 0..<length {
                    let position = block * length * inner + (reverse ? length - 1 - step : step) * inner + offset
                    if exclusive {
                        result[position] = running
                        running = combine(running, values[position])
                    } else {
                        running = combine(running, values[position])
                        result[position] = running
                    }
                }
            }
        }
        return result
    }
}
