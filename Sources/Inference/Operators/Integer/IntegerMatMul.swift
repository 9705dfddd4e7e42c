/// The integer matrix products, A [..., M, K] x B [K, N] (or B batched like A) on the C kernels:
/// MatMulInteger (int32 out), QLinearMatMul (requantized out) and MatMulIntegerToFloat (float out,
/// onnxruntime's contrib op, which the engine also fuses QDQ MatMul and Gemm into at load).
/// A constant 2-D B is packed once at load.
struct IntegerMatMul: Operator {
    enum Form {
        case integer, quantized, toFloat

        /// Input positions of each operand in the node's input list.
        var slots: (a: Int, aScale: Int?, aZero: Int, b: Int, bScale: Int?, bZero: Int, yScale: Int?, yZero: Int?, bias: Int?) {
            switch self {
            case .integer: (0, nil, 2, 1, nil, 3, nil, nil, nil)
            case .quantized: (0, 1, 2, 3, 4, 5, 6, 7, nil)
            case .toFloat: (0, 2, 4, 1, 3, 5, nil, nil, 6)
            }
        }
    }

    let form: Form
    let threads: Int
    private let constantWeights: IntegerOperands.Weights?

    init(_ context: OperatorContext, form: Form) throws {
        self.form = form
        threads = context.threads
        constantWeights = try context.constantInput(form.slots.b).flatMap { $0.shape.count == 2 ? try IntegerOperands.Weights($0) : nil }
    }

    var preparedBytes: Int { constantWeights?.packed.residentBytes ?? 0 }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let slots = form.slots
        let a = try inputs.required(slots.a), b = try inputs.required(slots.b)
        let (activations, aZero) = try IntegerOperands.activations(a, zeroPoint: inputs.optional(slots.aZero), role: "A")
        let (rows, depth, columns) = try dimensions(a.shape, b.shape)
        let matrices = b.shape.count > 2 ? b.shape.dropLast(2).reduce(1, *) : 1
        let rowsPerMatrix = matrices > 1 ? a.shape[a.shape.count - 2] : rows
        var accumulators: [Int32] = []
        accumulators.reserveCapacity(rows * columns)
        for matrix in 0..<matrices {
            let weights = try matrices == 1 && constantWeights != nil ? constantWeights!
                : IntegerOperands.Weights(rowMajor: b.slice(matrix, of: matrices), depth: depth, columns: columns, role: "B")
            let bZero = try weights.zeroPoints(inputs.optional(slots.bZero), role: "B's zero point")
            let block = Array(activations[(matrix * rowsPerMatrix * depth)..<((matrix + 1) * rowsPerMatrix * depth)])
            accumulators += weights.packed.multiply(block, rows: rowsPerMatrix, aZero: aZero, bZero: bZero, threads: threads)
        }
        let shape = a.shape.dropLast() + [columns]
        return [try result(inputs, columns: columns).tensor(accumulators, rows: rows, columns: columns, shape: Array(shape))]
    }

    /// Rows of A, depth and columns; B is 2-D, or batched with A's leading dimensions.
    private func dimensions(_ a: [Int], _ b: [Int]) throws -> (rows: Int, depth: Int, columns: Int) {
        if b.count == 2 { return try matrixDimensions(a, b) }
        guard a.count == b.count, a.dropLast(2) == b.dropLast(2), a.last == b[b.count - 2] else {
            throw InferenceError.invalidOperand("A \(a) and B \(b) are neither A x 2-D B nor batched alike")
        }
        return (a.dropLast().reduce(1, *), b[b.count - 2], b[b.count - 1])
    }

    private func result(_ inputs: [Tensor?], columns: Int) throws -> IntegerResult {
        let slots = form.slots
        switch form {
        case .integer:
            return .int32
        case .toFloat:
            let aScale = try IntegerOperands.scalarScale(try inputs.required(slots.aScale!), role: "a_scale")
            let bScales = try IntegerOperands.columnScales(try inputs.required(slots.bScale!), columns: columns, role: "b_scale")
            let bias = try inputs.optional(slots.bias!).map { try $0.floatOperand("bias") }
            guard bias.map({ $0.count == columns }) ?? true else { throw InferenceError.invalidOperand("bias must hold \(columns) values") }
            return .float(scales: bScales.map { $0 * aScale }, bias: bias)
        case .quantized:
            let aScale = try IntegerOperands.scalarScale(try inputs.required(slots.aScale!), role: "a_scale")
            let bScales = try IntegerOperands.columnScales(try inputs.required(slots.bScale!), columns: columns, role: "b_scale")
            let yScale = try IntegerOperands.scalarScale(try inputs.required(slots.yScale!), role: "y_scale")
            let yZero = try inputs.required(slots.yZero!)
            guard yZero.elementType == .int8 || yZero.elementType == .uint8, yZero.count == 1 else {
                throw InferenceError.invalidOperand("y_zero_point must be one int8 or uint8, got \(yZero.elementType.rawValue) \(yZero.shape)")
            }
            return .requantized(multipliers: bScales.map { aScale * $0 / yScale }, bias: nil,
                                zero: Int32(yZero.int64s[0]), type: yZero.elementType)
        }
    }
}

extension Tensor {
    /// Matrix `index` of `count` equal consecutive slices, flattened.
    func slice(_ index: Int, of count: Int) -> Tensor {
        let size = self.count / count
        return Tensor(shape: [size], storage: storage.gathered(Array((index * size)..<((index + 1) * size))))
    }
}
