/// The integer matrix products, A [..., M, K] x B [K, N] (or B batched like A) on the C kernels:
/// MatMulInteger (int32 out), QLinearMatMul (requantized out) and MatMulIntegerToFloat (float out,
/// onnxruntime's contrib op, which the engine also fuses QDQ MatMul and Gemm into at load).
/// A constant 2-D B is packed once at load.
struct IntegerMatMul: SingleOutputOperator {
    let form: IntegerForm
    let threads: Int
    private let constantWeights: IntegerOperands.Weights?

    init(_ context: OperatorContext, form: IntegerForm) throws {
        self.form = form
        threads = context.threads
        constantWeights = try context.constantInput(form.slots.b).flatMap { $0.shape.count == 2 ? try IntegerOperands.Weights($0) : nil }
        // Constant zero points are checked against the weights' depth here, at load, not on the first request.
        if let constantWeights, let bZero = context.constantInput(form.slots.bZero) {
            _ = try constantWeights.zeroPoints(bZero, role: "B's zero point")
        }
    }

    var preparedBytes: Int { constantWeights?.packed.residentBytes ?? 0 }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let slots = form.slots
        let a = try inputs.required(slots.a), b = try inputs.required(slots.b)
        let (activations, aZero) = try IntegerOperands.activations(a, zeroPoint: inputs.optional(slots.aZero), role: "A")
        let (rows, depth, columns) = try dimensions(a.shape, b.shape)
        let matrices = b.shape.count > 2 ? b.shape.dropLast(2).reduce(1, *) : 1
        let rowsPerMatrix = matrices > 1 ? a.shape[a.shape.count - 2] : rows
        var shape = a.shape.dropLast() + [columns]
        // A bias of rank above the product's ([1, N] after a 1-D A) broadcasts it, as the Add it replaces did.
        if let bias = slots.bias.flatMap(inputs.optional), bias.shape.count > shape.count {
            shape = Array(repeating: 1, count: bias.shape.count - shape.count) + shape
        }
        // One matrix (the common case) multiplies A by the packed constant B; batched ones one slice of A by one of B.
        func operands(_ matrix: Int) throws -> (matrix: Int, weights: IntegerOperands.Weights, bZero: [Int8]?) {
            let weights = try matrices == 1 && constantWeights != nil ? constantWeights!
                : IntegerOperands.Weights(rowMajor: b.slice(matrix, of: matrices), depth: depth, columns: columns, role: "B")
            return (matrix, weights, try weights.zeroPoints(inputs.optional(slots.bZero), role: "B's zero point"))
        }
        let result = try form.result(inputs, columns: columns)
        // Tiles come matrix after matrix: each matrix's B is packed once, for its first tile.
        var current: (matrix: Int, weights: IntegerOperands.Weights, bZero: [Int8]?)?
        return try activations.withUnsafeBufferPointer { activations in
            try result.tensor(parts: matrices, rows: rowsPerMatrix, columns: columns, tileRows: Self.tileRows(columns: columns),
                              shape: Array(shape)) { matrix, rows, product in
                let (_, weights, bZero) = try current.flatMap { $0.matrix == matrix ? $0 : nil } ?? operands(matrix)
                current = (matrix, weights, bZero)
                weights.packed.multiply(activations.baseAddress! + (matrix * rowsPerMatrix + rows.lowerBound) * depth, rows: rows.count,
                                        aZero: aZero, bZero: bZero, threads: threads, into: product)
            }
        }
    }

    /// Rows per tile: about 256 kB of int32 products, converted while they are still in cache (a
    /// whole product of MiniLM's at batch 32 is 25 MB).
    private static func tileRows(columns: Int) -> Int {
        CacheTile.rows(ofBytes: columns * MemoryLayout<Int32>.stride, within: 256 << 10, atLeast: 64)
    }

    /// Rows of A, depth and columns; B is 2-D, or batched with A's leading dimensions.
    private func dimensions(_ a: [Int], _ b: [Int]) throws -> (rows: Int, depth: Int, columns: Int) {
        if b.count == 2 { return try matrixDimensions(a, b) }
        guard a.count == b.count, a.dropLast(2) == b.dropLast(2), a.last == b[b.count - 2] else {
            throw InferenceError.invalidOperand("A \(a) and B \(b) are neither A x 2-D B nor batched alike")
        }
        return (a.dropLast().reduce(1, *), b[b.count - 2], b[b.count - 1])
    }
}

extension Tensor {
    /// Matrix `index` of `count` equal consecutive slices, flattened.
    func slice(_ index: Int, of count: Int) -> Tensor {
        let size = self.count / count
        return Tensor(shape: [size], storage: storage.gathered(Array((index * size)..<((index + 1) * size))))
    }
}
