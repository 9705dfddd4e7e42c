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
        let positionsOfScale = try Broadcasting.positions(of: try inputs.required(1).shape, in: Array(x.shape[axis...]))
        let scale = try inputs.required(1).floats
        let bias = try inputs.optional(2).map { ($0.floats, try Broadcasting.positions(of: $0.shape, in: Array(x.shape[axis...]))) }
        var values = try x.floatOperand("X")
        var means = [Float](repeating: 0, count: rows), inverseDeviations = means
        for row in 0..<rows {
            let range = (row * size)..<((row + 1) * size)
            let mean = values[range].reduce(0, +) / Float(size)
            let variance = values[range].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(size)
            let inverse = 1 / (variance + epsilon).squareRoot()
            for (offset, index) in range.enumerated() {
                var y = (values[index] - mean) * inverse * scale[positionsOfScale[offset]]
                if let (biasValues, biasPositions) = bias { y += biasValues[biasPositions[offset]] }
                values[index] = y
            }
            (means[row], inverseDeviations[row]) = (mean, inverse)
        }
        let statisticsShape = Array(x.shape[..<axis]) + Array(repeating: 1, count: x.shape.count - axis)
        return [Tensor(shape: x.shape, floats: values, as: x.elementType),
                Tensor(shape: statisticsShape, floats: means), Tensor(shape: statisticsShape, floats: inverseDeviations)]
    }
}
