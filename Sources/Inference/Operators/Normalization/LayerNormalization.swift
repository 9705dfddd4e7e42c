/// LayerNormalization (opset 17): normalizes over the axes from `axis` on, then scale and optional
/// bias; the optional Mean and InvStdDev outputs keep the normalized axes as size 1.
struct LayerNormalization: Operator, ShapePreserving {
    let axis: Int
    let epsilon: Float

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -1)
        epsilon = try context.attributes.float("epsilon", default: 1e-5)
    }

    init(axis: Int, epsilon: Float) {
        (self.axis, self.epsilon) = (axis, epsilon)
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
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
        let input = try x.floatOperand("X")
        var means = [Float](recycledUnwritten: rows), inverseDeviations = [Float](recycledUnwritten: rows)
        let values = [Float](recycledCapacity: input.count) { output, initialized in
            input.withUnsafeBufferPointer { input in
                scales.withUnsafeBufferPointer { scales in
                    biases.withUnsafeBufferPointer { biases in
                        for row in 0..<rows {
                            let (source, target) = (input.baseAddress! + row * size, output.baseAddress! + row * size)
                            let mean = Self.sum(source, count: size) { $0 } / Float(size)
                            let variance = Self.sum(source, count: size) { ($0 - mean) * ($0 - mean) } / Float(size)
                            let inverse = 1 / (variance + epsilon).squareRoot()
                            for index in 0..<size { target[index] = (source[index] - mean) * inverse * scales[index] + biases[index] }
                            (means[row], inverseDeviations[row]) = (mean, inverse)
                        }
                    }
                }
            }
            initialized = input.count
        }
        let statisticsShape = Array(x.shape[..<axis]) + Array(repeating: 1, count: x.shape.count - axis)
        outputs.append(Tensor(shape: x.shape, floats: values, as: x.elementType))
        outputs.append(Tensor(shape: statisticsShape, floats: means))
        outputs.append(Tensor(shape: statisticsShape, floats: inverseDeviations))
    }

    /// The sum of `term` over `count` floats, in eight interleaved partial sums: one running sum is a
    /// chain of dependent adds (4 cycles each), which made this operator 2x slower than onnxruntime's.
    @inline(__always)
    private static func sum(_ row: UnsafePointer<Float>, count: Int, _ term: (SIMD8<Float>) -> SIMD8<Float>) -> Float {
        var partial = SIMD8<Float>(), index = 0
        let raw = UnsafeRawPointer(row)
        while index + 8 <= count {
            partial += term(raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self))
            index += 8
        }
        var total = partial.sum()
        while index < count {
            total += term(SIMD8(repeating: row[index]))[0]
            index += 1
        }
        return total
    }
}
