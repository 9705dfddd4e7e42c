/// QGemm (com.microsoft): Y = alpha x (A' - a_zero_point)(B' - b_zero_point) x a_scale x b_scale
/// (+ C), ' an optional transpose, for uint8 or int8 A and B (b's scale and zero point per tensor
/// or per column), on the integer kernels. C is int32, already in the accumulators' scale, and
/// broadcasts to [M, N]. With y_zero_point the result is requantized (y_scale folded into the
/// multiplier, rounded half to even, saturated); without it, it is float (y_scale, if given, still
/// divides, as in onnxruntime). A constant B is transposed and packed once at load.
struct QGemm: SingleOutputOperator {
    let alpha: Float
    let transposesA: Bool
    let transposesB: Bool
    let threads: Int
    private let constantWeights: IntegerOperands.Weights?

    init(_ context: OperatorContext) throws {
        alpha = try context.attributes.float("alpha", default: 1)
        transposesA = try context.attributes.int("transA", default: 0) != 0
        let transposesB = try context.attributes.int("transB", default: 0) != 0
        self.transposesB = transposesB
        threads = context.threads
        constantWeights = try context.constantInput(3).map { try Self.weights($0, transposed: transposesB) }
    }

    var preparedBytes: Int { constantWeights?.packed.residentBytes ?? 0 }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try Self.matrix(try inputs.required(0), transposed: transposesA, role: "A")
        let weights = try constantWeights ?? Self.weights(try inputs.required(3), transposed: transposesB)
        let (rows, depth, columns) = (a.shape[0], a.shape[1], weights.packed.columns)
        guard depth == weights.packed.depth else {
            throw InferenceError.invalidOperand("inner dimensions differ: A' is \(rows) x \(depth), B' is \(weights.packed.depth) x \(columns)")
        }
        let (activations, aZero) = try IntegerOperands.activations(a, zeroPoint: try inputs.required(2), role: "A")
        let bZero = try weights.zeroPoints(inputs.optional(5), role: "b_zero_point")
        let aScale = try IntegerOperands.scalarScale(try inputs.required(1), role: "a_scale")
        var scales = try IntegerOperands.columnScales(try inputs.required(4), columns: columns, role: "b_scale").map { alpha * aScale * $0 }
        if let yScale = inputs.optional(7) {
            let step = try IntegerOperands.scalarScale(yScale, role: "y_scale")
            scales = scales.map { $0 / step }
        }
        let result: IntegerResult
        if let yZero = inputs.optional(8) {
            guard yZero.elementType == .int8 || yZero.elementType == .uint8, yZero.count == 1, inputs.optional(7) != nil else {
                throw InferenceError.invalidOperand("y_zero_point must be one int8 or uint8 beside y_scale, got \(yZero.elementType.rawValue) \(yZero.shape)")
            }
            result = .requantized(multipliers: scales, bias: nil, zero: Int32(yZero.int64(at: 0)), type: yZero.elementType)
        } else {
            result = .float(.init(scales: scales, bias: nil))
        }
        let bias = try inputs.optional(6).map { try Self.bias($0, rows: rows, columns: columns) }
        return activations.withUnsafeBufferPointer { activations in
            result.tensor(rows: rows, columns: columns, shape: [rows, columns]) { _, tile, product in
                weights.packed.multiply(activations.baseAddress! + tile.lowerBound * depth, rows: tile.count, aZero: aZero, bZero: bZero,
                                        threads: threads, into: product)
                guard let bias else { return }
                for row in tile {
                    for column in 0..<columns {
                        product[(row - tile.lowerBound) * columns + column] &+= bias[row * columns + column]
                    }
                }
            }
        }
    }

    /// B' [K, N] packed, from B [K, N] or, transposed, [N, K].
    private static func weights(_ b: Tensor, transposed: Bool) throws -> IntegerOperands.Weights {
        try IntegerOperands.Weights(try matrix(b, transposed: transposed, role: "B"), role: "B")
    }

    private static func matrix(_ tensor: Tensor, transposed: Bool, role: String) throws -> Tensor {
        guard tensor.shape.count == 2 else { throw InferenceError.invalidOperand("\(role) must be 2-D, got \(tensor.shape)") }
        return transposed ? Transpose.permuted(tensor, by: [1, 0]) : tensor
    }

    /// C broadcast to every element of [M, N].
    private static func bias(_ c: Tensor, rows: Int, columns: Int) throws -> [Int32] {
        guard case .int32(let values) = c.storage else { throw InferenceError.invalidOperand("C must be int32, got \(c.elementType.rawValue)") }
        return try Broadcasting.positions(of: c.shape, in: [rows, columns]).map { values[$0] }
    }
}

extension QGemm: ShapeRule {
    /// [M, N] from A' [M, K] and B' [K, N].
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        try Gemm.productShape(inputs.first ?? nil, inputs.count > 3 ? inputs[3] : nil, transposesA: transposesA, transposesB: transposesB)
    }
}
