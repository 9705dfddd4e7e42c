/// OneHot(indices, depth, values): along a new axis of size depth, values[1] where the index
/// (negative ones from the end) points and values[0] elsewhere; out-of-range indices give a row of values[0].
struct OneHot: SingleOutputOperator {
    let axis: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -1)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let indices = try inputs.required(0), values = try inputs.required(2)
        let depth = Int(try inputs.required(1).float(at: 0))
        guard depth > 0, values.count == 2 else { throw InferenceError.invalidOperand("depth must be positive and values hold [off, on]") }
        let rank = indices.shape.count + 1
        let axis = try normalizedAxis(axis, rank: rank)
        let shape = Array(indices.shape[..<axis]) + [depth] + Array(indices.shape[axis...])
        let inner = indices.shape[axis...].reduce(1, *)
        let wanted = indices.floats.map { Int($0) }
        var positions: [Int] = []
        positions.reserveCapacity(shape.reduce(1, *))
        for element in 0..<shape.reduce(1, *) {
            let slot = (element / inner) % depth, source = (element / (inner * depth)) * inner + element % inner
            let index = wanted[source] < 0 ? wanted[source] + depth : wanted[source]
            positions.append(index == slot ? 1 : 0)
        }
        return values.gathered(positions, shape: shape)
    }
}

/// NonZero: the indices of the nonzero elements, one row per axis, as int64 [rank, count].
struct NonZero: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let nonzero = try x.converted(to: .bool)
        guard case .bool(let holds) = nonzero.storage else { return x }
        var found: [[Int]] = []
        var element = 0
        forEachIndex(of: x.shape) { index in
            if holds[element] { found.append(index) }
            element += 1
        }
        let rank = x.shape.count
        let values = (0..<rank).flatMap { axis in found.map { Int64($0[axis]) } }
        return Tensor(shape: [rank, found.count], int64s: values)
    }
}

/// Compress: the slices along `axis` (or the flattened elements without one) whose condition holds.
struct Compress: SingleOutputOperator {
    let axis: Int?

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard case .bool(let condition) = try inputs.required(1).storage else {
            throw InferenceError.invalidOperand("condition must be bool")
        }
        guard let requested = axis else {
            let kept = condition.prefix(x.count).indices.filter { condition[$0] }
            return x.gathered(kept, shape: [kept.count])
        }
        let axis = try normalizedAxis(requested, rank: x.shape.count)
        let kept = condition.prefix(x.shape[axis]).indices.filter { condition[$0] }
        let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        let starts = (0..<outer).flatMap { block in kept.map { (block * x.shape[axis] + $0) * inner } }
        var shape = x.shape
        shape[axis] = kept.count
        return Tensor(shape: shape, storage: x.storage.runs(from: starts, width: inner))
    }
}
