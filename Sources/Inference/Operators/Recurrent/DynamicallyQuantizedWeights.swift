/// How a recurrent operator's W and R are stored: in floats, [directions, gates x hidden, input]
/// as ONNX's LSTM, GRU and RNN take them, or (onnxruntime's DynamicQuantizeLSTM) in 8 bits,
/// transposed to [directions, input, gates x hidden], with per-direction or per-column scales and
/// zero points at inputs 8 to 11.
enum RecurrentWeightFormat: Sendable {
    case float, dynamicallyQuantized

    /// The inputs the prepared weights are made from (B, input 3, may be omitted).
    var weightOperands: [Int] {
        self == .float ? [1, 2, 3] : [1, 2, 3, 8, 9, 10, 11]
    }
}

/// An 8-bit weight matrix B [K, N] multiplied as onnxruntime's DynamicQuantizeLSTM multiplies it: A
/// quantized to uint8 on every product with DynamicQuantizeLinear's scale and zero point (its range),
/// the exact integer product, times A's scale times each column's weight scale. B's zero point is one
/// per direction: onnxruntime reads the first of a per-column list, which it requires to be all alike
/// (all 0 for int8 weights).
struct DynamicallyQuantizedWeights: RecurrentProjection {
    private let weights: IntegerOperands.Weights
    private let zeroPoints: [Int8]?
    private let scales: [Float]

    var depth: Int { weights.packed.depth }
    var residentBytes: Int { weights.packed.residentBytes }

    func multiply(_ a: [Float], rows: Int, on multiplier: MatrixMultiplier) -> [Float] {
        let parameters = DynamicQuantizeLinear.parameters(for: a)
        let levels = DynamicQuantizeLinear.quantize(a, with: parameters)
        let (depth, columns) = (depth, weights.packed.columns)
        let result = IntegerResult.float(.init(scales: scales.map { parameters.scale * $0 }, bias: nil))
        return levels.withUnsafeBufferPointer { levels in
            result.tensor(rows: rows, columns: columns, shape: [rows, columns]) { _, tile, product in
                weights.packed.multiply(levels.baseAddress! + tile.lowerBound * depth, rows: tile.count, aZero: parameters.zeroPoint,
                                        bZero: zeroPoints, threads: multiplier.threads, into: product)
            }.floats
        }
    }

    /// Each direction's W and R (8-bit, [directions, K, gates x hidden]) with their scales and zero
    /// points ([directions] or [directions, gates x hidden]), and the float biases B.
    static func recurrentWeights(w: Tensor, r: Tensor, b: Tensor?, wScale: Tensor, wZero: Tensor, rScale: Tensor, rZero: Tensor,
                                 directions: Int, gateCount: Int, multiplier: MatrixMultiplier) throws -> [RecurrentWeights] {
        guard w.shape.count == 3, r.shape.count == 3, w.shape[0] == directions, r.shape[0] == directions, r.shape[2] == gateCount * r.shape[1],
              w.shape[2] == r.shape[2] else {
            throw InferenceError.invalidOperand(
                "W and R must be [\(directions), input, \(gateCount) x hidden] and [\(directions), hidden, \(gateCount) x hidden], got \(w.shape) and \(r.shape)")
        }
        let gateWidth = r.shape[2]
        if let b, b.shape != [directions, 2 * gateWidth] {
            throw InferenceError.invalidOperand("B must be [\(directions), \(2 * gateWidth)], got \(b.shape)")
        }
        let biases = try b?.floatOperand("B") ?? [Float](repeating: 0, count: directions * 2 * gateWidth)
        return try (0..<directions).map { direction in
            let biasStart = direction * 2 * gateWidth
            return RecurrentWeights(
                input: try Self(w, scale: wScale, zeroPoint: wZero, direction: direction, of: directions, role: "W"),
                inputBias: Array(biases[biasStart..<(biasStart + gateWidth)]),
                recurrence: [try Self(r, scale: rScale, zeroPoint: rZero, direction: direction, of: directions, role: "R")],
                recurrenceBias: [Array(biases[(biasStart + gateWidth)..<(biasStart + 2 * gateWidth)])],
                multiplier: multiplier)
        }
    }

    /// One direction's matrix of `matrices` [directions, K, N].
    private init(_ matrices: Tensor, scale: Tensor, zeroPoint: Tensor, direction: Int, of directions: Int, role: String) throws {
        let (depth, columns) = (matrices.shape[1], matrices.shape[2])
        guard scale.shape == [directions] || scale.shape == [directions, columns], zeroPoint.shape == scale.shape,
              zeroPoint.elementType == matrices.elementType else {
            throw InferenceError.invalidOperand(
                "\(role)'s scale and zero point must be [\(directions)] or [\(directions), \(columns)], the zero point \(matrices.elementType.rawValue), got \(scale.shape) and \(zeroPoint.elementType.rawValue) \(zeroPoint.shape)")
        }
        let perDirection = scale.count / directions
        let zeros = zeroPoint.int64s[(direction * perDirection)..<((direction + 1) * perDirection)]
        guard Set(zeros).count == 1, matrices.elementType == .uint8 || zeros.first == 0 else {
            throw InferenceError.invalidOperand("\(role)'s zero points must be one value per direction (0 for int8 weights), got \(Array(zeros))")
        }
        weights = try IntegerOperands.Weights(rowMajor: matrices.slice(direction, of: directions), depth: depth, columns: columns, role: role)
        let single = Tensor(shape: [], storage: zeroPoint.storage.gathered([direction * perDirection]))
        zeroPoints = try weights.zeroPoints(single, role: "\(role)'s zero point")
        let values = try scale.floatOperand("\(role)'s scale")
        scales = perDirection == 1 ? Array(repeating: values[direction], count: columns) : Array(values[(direction * columns)..<((direction + 1) * columns)])
    }
}
