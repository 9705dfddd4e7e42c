/// Y = alpha * A' x B' + beta * C, where ' is an optional transpose and C broadcasts to [M, N].
/// A constant B is transposed (when transB) and packed once at load, as MatMul packs its weights:
/// the classifier heads of CNNs are Gemms with constant, transposed B.
struct Gemm: SingleOutputOperator {
    let alpha: Float
    let beta: Float
    let transposesA: Bool
    let transposesB: Bool
    private let packedB: PackedFloatWeights?
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) throws {
        multiplier = context.multiplier
        alpha = try context.attributes.float("alpha", default: 1)
        beta = try context.attributes.float("beta", default: 1)
        transposesA = try context.attributes.int("transA", default: 0) != 0
        let transposesB = try context.attributes.int("transB", default: 0) != 0
        self.transposesB = transposesB
        packedB = try context.constantInput(1).map {
            let b = try Self.matrix($0, transposed: transposesB, role: "B")
            return PackedFloatWeights(rowMajor: b.values, depth: b.depth, columns: b.columns)
        }
    }

    var preparedBytes: Int { packedB?.residentBytes ?? 0 }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try Self.matrix(try inputs.required(0), transposed: transposesA, role: "A")
        var values: [Float], columns: Int
        if let packedB {
            guard a.columns == packedB.depth else {
                throw InferenceError.invalidOperand("inner dimensions differ: A' is \(a.depth) x \(a.columns), B' is \(packedB.depth) x \(packedB.columns)")
            }
            (values, columns) = (packedB.multiply(a.values, rows: a.depth, on: multiplier), packedB.columns)
        } else {
            let b = try Self.matrix(try inputs.required(1), transposed: transposesB, role: "B")
            guard a.columns == b.depth else {
                throw InferenceError.invalidOperand("inner dimensions differ: A' is \(a.depth) x \(a.columns), B' is \(b.depth) x \(b.columns)")
            }
            (values, columns) = (MatMul.product(a.values, b.values, rows: a.depth, depth: a.columns, columns: b.columns, on: multiplier), b.columns)
        }
        let rows = a.depth
        if alpha != 1 {
            for index in values.indices { values[index] *= alpha }
        }
        if let c = inputs.optional(2), beta != 0 {
            let bias = try c.floatOperand("C").map { beta * $0 }
            if c.count == columns && c.shape.dropLast().allSatisfy({ $0 == 1 }) {
                values.addRowBias(bias)
            } else {
                let positions = try Broadcasting.positions(of: c.shape, in: [rows, columns])
                for index in values.indices { values[index] += bias[positions[index]] }
            }
        }
        return Tensor(shape: [rows, columns], floats: values, as: try inputs.required(0).elementType)
    }

    /// A 2-D operand as row-major values with (rows, columns) after the optional transpose.
    private static func matrix(_ tensor: Tensor, transposed: Bool, role: String) throws -> (values: [Float], depth: Int, columns: Int) {
        guard tensor.shape.count == 2 else { throw InferenceError.invalidOperand("\(role) must be 2-D, got \(tensor.shape)") }
        let values = try tensor.floatOperand(role)
        guard transposed else { return (values, tensor.shape[0], tensor.shape[1]) }
        return (values.transposedMatrix(rows: tensor.shape[0], columns: tensor.shape[1]), tensor.shape[1], tensor.shape[0])
    }
}

extension Gemm: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        try Self.productShape(inputs.first ?? nil, inputs.count > 1 ? inputs[1] : nil, transposesA: transposesA, transposesB: transposesB)
    }

    /// [M, N] from A' [M, K] and B' [K, N] (Gemm's and QGemm's rule); left to the run for operands
    /// that are not matrices.
    static func productShape(_ a: StaticShape?, _ b: StaticShape?, transposesA: Bool, transposesB: Bool) throws -> [StaticShape?] {
        guard let a, let b, a.count == 2, b.count == 2 else { return [] }
        let (rows, depth) = transposesA ? (a[1], a[0]) : (a[0], a[1])
        let (bDepth, columns) = transposesB ? (b[1], b[0]) : (b[0], b[1])
        if let depth, let bDepth, depth != bDepth {
            throw InferenceError.invalidOperand(
                "inner dimensions differ: A' has \(depth) columns, B' has \(bDepth) rows (A \(StaticShapes.describe(a)), B \(StaticShapes.describe(b)))")
        }
        return [[rows, columns]]
    }
}
