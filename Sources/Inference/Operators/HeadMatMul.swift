/// MatMul of 4-D operands [B, H, M, K] x [B, H, K, N] -> [B, H, M, N], any of them stored with axes
/// 1 and 2 swapped (`swap_a`, `swap_b`, `swap_c`: the head Transposes that fuseHeadTransposes took
/// out). Each (batch, head) product reads and writes its matrix in place as a strided view. Other
/// shapes (another rank, broadcast batches) run the transposes and the general MatMul.
struct HeadMatMul: SingleOutputOperator {
    private let swapped: [Bool]  // a, b, c
    private let multiplier: MatrixMultiplier
    private let general: MatMul

    init(_ context: OperatorContext) throws {
        self.init(swapped: try ["swap_a", "swap_b", "swap_c"].map { try context.attributes.int($0, default: 0) != 0 },
                  multiplier: context.multiplier)
    }

    /// `swapped`: whether A, B and the product are stored with axes 1 and 2 swapped.
    init(swapped: [Bool], multiplier: MatrixMultiplier) {
        self.swapped = swapped
        self.multiplier = multiplier
        general = MatMul(multiplier: multiplier)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try inputs.required(0), b = try inputs.required(1)
        let aView = Self.view(a.shape, swapped: swapped[0]), bView = Self.view(b.shape, swapped: swapped[1])
        guard let aView, let bView, aView.shape.prefix(2) == bView.shape.prefix(2), aView.shape[3] == bView.shape[2] else {
            return try generalRun(a, b)
        }
        let (batches, heads, rows, depth, columns) = (aView.shape[0], aView.shape[1], aView.shape[2], aView.shape[3], bView.shape[3])
        let storedShape = swapped[2] ? [batches, rows, heads, columns] : [batches, heads, rows, columns]
        let cView = Self.view(storedShape, swapped: swapped[2])!
        let aValues = try a.floatOperand("A"), bValues = try b.floatOperand("B")
        let count = batches * heads * rows * columns
        let values = [Float](recycledCapacity: count) { c, initialized in
            aValues.withUnsafeBufferPointer { a in
                bValues.withUnsafeBufferPointer { b in
                    for batch in 0..<batches where rows * columns > 0 {
                        for head in 0..<heads {
                            multiplier.multiply(
                                a.baseAddress! + aView.offset(batch, head), lda: aView.strides[2],
                                b.baseAddress! + bView.offset(batch, head), ldb: bView.strides[2],
                                into: c.baseAddress! + cView.offset(batch, head), ldc: cView.strides[2],
                                rows: rows, depth: depth, columns: columns)
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: storedShape, floats: values, as: a.elementType)
    }

    /// The logical [B, H, rows, columns] view of a contiguous 4-D tensor of `shape`: its axes 1 and 2
    /// swapped when `swapped`; rows `strides[2]` apart, columns adjacent. nil for another rank.
    static func view(_ shape: [Int], swapped: Bool) -> (shape: [Int], strides: [Int], offset: (Int, Int) -> Int)? {
        guard shape.count == 4 else { return nil }
        let stored = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1]
        let order = swapped ? [0, 2, 1, 3] : [0, 1, 2, 3]
        let strides = order.map { stored[$0] }
        return (order.map { shape[$0] }, strides, { batch, head in batch * strides[0] + head * strides[1] })
    }

    private func generalRun(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        func unswapped(_ x: Tensor, _ swap: Bool, _ role: String) throws -> Tensor {
            guard swap else { return x }
            guard x.shape.count == 4 else { throw InferenceError.invalidOperand("\(role) of a head product must be 4-D, got \(x.shape)") }
            return Transpose.permuted(x, by: [0, 2, 1, 3])
        }
        let product = try general.run([try unswapped(a, swapped[0], "A"), try unswapped(b, swapped[1], "B")])
        return try unswapped(product, swapped[2], "the product")
    }
}
