/// Tile: the input repeated `repeats[axis]` times along each axis.
struct Tile: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let repeats = try inputs.required(1).int64s.map { Int($0) }
        guard repeats.count == x.shape.count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.invalidOperand("repeats \(repeats) must hold one non-negative count per axis of \(x.shape)")
        }
        let shape = zip(x.shape, repeats).map(*), strides = x.strides
        var positions: [Int] = []
        positions.reserveCapacity(shape.reduce(1, *))
        forEachIndex(of: shape) { index in
            var source = 0
            for axis in index.indices { source += (index[axis] % x.shape[axis]) * strides[axis] }
            positions.append(source)
        }
        return x.gathered(positions, shape: shape)
    }
}
