/// LayerNormalization (opset 17): normalizes over the axes from `axis` on, then scale and optional
/// bias; the optional Mean and InvStdDev outputs keep the normalized axes as size 1.
struct LayerNormalization: Operator {
    let axis: Int
    let epsilon: Float

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -1)
        epsilon = try context.attributes.float("epsilon", default: 1e-5)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let size = x.shape[axis...].reduce(1, *), rows = x.shape[..<axis].reduce(1, *)
        // Scale and bias broadcast over the normalised axes: expanded once to one value per element of a row.
        func perElement(_ tensor: Tensor) throws -> [Float] {
            let values = tensor.floats
            guard values.count != size else { return values }
            return try Broadcasting.positions(of: tensor.shape, in: Array(x.shape[axis...])).map { values[$0] }
        }
        let scales = try perElement(try inputs.required(1))
        let biases = try inputs.optional(2).map(perElement) ?? [Float](repeating: 0, count: size)
        var values = try x.floatOperand("X")
        var means = [Float](repeating: 0, count: rows), inverseDeviations = means
        values.withUnsafeMutableBufferPointer { values in
            scales.withUnsafeBufferPointer { scales in
                biases.withUnsafeBufferPointer { biases in
                    for row in 0..<rows {
                        let start = values.baseAddress! + row * size
                        var sum: Float = 0
                        for index in 0..<size { sum += start[index] }
                        let mean = sum / Float(size)
                        var squares: Float = 0
                        for index in 0..<size { squares += (start[index] - mean) * (start[index] - mean) }
                        let inverse = 1 / (squares / Float(size) + epsilon).squareRoot()
                        for index in 0..<size { start[index] = (start[index] - mean) * inverse * scales[index] + biases[index] }
                        (means[row], inverseDeviations[row]) = (mean, inverse)
                    }
                }
            }
        }
        let statisticsShape = Array(x.shape[..<axis]) + Array(repeating: 1, count: x.shape.count - axis)
        return [Tensor(shape: x.shape, floats: values, as: x.elementType),
                Tensor(shape: statisticsShape, floats: means), Tensor(shape: statisticsShape, floats: inverseDeviations)]
    }
}
