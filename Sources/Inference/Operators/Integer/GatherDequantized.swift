/// GatherDequantized(table, scale, zero point, indices): Gather along axis 0 from an int8/uint8
/// table, then DequantizeLinear of just the gathered rows (one scale for the table or one per row).
/// What the engine fuses Gather(DequantizeLinear(table)) into at load, so an int8 embedding table
/// stays int8 in memory and a lookup dequantizes a few rows, not the table.
struct GatherDequantized: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let table = try inputs.required(0), scale = try inputs.required(1), indices = try inputs.required(3)
        guard let length = table.shape.first else { throw InferenceError.invalidOperand("the table must not be a scalar") }
        let rows = try Gather.positions(of: indices, length: length, axis: 0)
        let scales = try scale.floatOperand("scale"), zeros = inputs.optional(2)?.storage
        guard scales.count == 1 || scales.count == length, (zeros?.count ?? 1) == 1 || zeros?.count == scales.count else {
            throw InferenceError.invalidOperand("scale and zero point must hold 1 or \(length) values")
        }
        let inner = table.shape.dropFirst().reduce(1, *)
        // Only the gathered rows' zero points are read: a per-row table's are as many as its rows.
        func zero(_ parameter: Int) throws -> Float {
            let index = zeros?.count == 1 ? 0 : parameter
            switch zeros {
            case nil: return 0
            case .int8(let levels)?: return Float(levels[index])
            case .uint8(let levels)?: return Float(levels[index])
            case let other?: throw InferenceError.invalidOperand("the zero point must be int8 or uint8, got \(other.elementType.rawValue)")
            }
        }
        func dequantize<Level: BinaryInteger>(_ levels: [Level]) throws -> [Float] {
            try [Float](recycledCapacity: rows.count * inner) { values, initialized in
                for (output, row) in rows.enumerated() {
                    let parameter = scales.count == 1 ? 0 : row
                    let (step, zero) = (scales[parameter], try zero(parameter))
                    for column in 0..<inner {
                        values[output * inner + column] = (Float(levels[row * inner + column]) - zero) * step
                    }
                }
                initialized = rows.count * inner
            }
        }
        let values: [Float]
        switch table.storage {
        case .int8(let levels): values = try dequantize(levels)
        case .uint8(let levels): values = try dequantize(levels)
        default: throw InferenceError.invalidOperand("the table must be int8 or uint8, got \(table.elementType.rawValue)")
        }
        return Tensor(shape: indices.shape + table.shape.dropFirst(), floats: values)
    }
}
