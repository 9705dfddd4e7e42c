/// Float MatMul with numpy semantics: 1-D operands are promoted to matrices (and the added axis
/// dropped again), leading (batch) dimensions broadcast. A 2-D B folds A's batch into its rows; a
/// 2-D float B known at load (weights) is packed then, once.
struct MatMul: SingleOutputOperator {
    private let packedB: PackedFloatWeights?
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) {
        self.init(multiplier: context.multiplier, constantB: context.constantInput(1))
    }

    init(multiplier: MatrixMultiplier, constantB: Tensor? = nil) {
        self.multiplier = multiplier
        if let b = constantB, b.shape.count == 2, b.elementType.isFloatingPoint {
            packedB = PackedFloatWeights(rowMajor: b.floats, depth: b.shape[0], columns: b.shape[1])
        } else {
            packedB = nil
        }
    }

    var preparedBytes: Int { packedB?.residentBytes ?? 0 }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try inputs.required(0), b = try inputs.required(1)
        if let packedB, a.shape.count >= 2, a.shape.last == packedB.depth {
            let rows = a.shape.dropLast().reduce(1, *)
            return Tensor(shape: a.shape.dropLast() + [packedB.columns], floats: packedB.multiply(try a.floatOperand("A"), rows: rows, on: multiplier), as: a.elementType)
        }
        let aValues = try a.floatOperand("A"), bValues = try b.floatOperand("B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw InferenceError.invalidOperand("MatMul operands must not be scalars") }
        let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
        let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
        let (rows, depth, columns) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
        guard bShape[bShape.count - 2] == depth else {
            throw InferenceError.invalidOperand("inner dimensions differ: A \(a.shape), B \(b.shape)")
        }
        let batch = try Broadcasting(Array(aShape.dropLast(2)), Array(bShape.dropLast(2))).shape
        var shape = batch + [rows, columns]
        let values: [Float]
        if bShape.count == 2 {
            let allRows = aShape.dropLast().reduce(1, *)
            values = Self.product(aValues, bValues, rows: allRows, depth: depth, columns: columns, on: multiplier)
        } else {
            let aBatches = try Broadcasting.positions(of: Array(aShape.dropLast(2)), in: batch)
            let bBatches = try Broadcasting.positions(of: Array(bShape.dropLast(2)), in: batch)
            values = [Float](recycledCapacity: aBatches.count * rows * columns) { c, initialized in
                aValues.withUnsafeBufferPointer { a in
                    bValues.withUnsafeBufferPointer { b in
                        for (index, (aBatch, bBatch)) in zip(aBatches, bBatches).enumerated() {
                            multiplier.multiply(a.baseAddress! + aBatch * rows * depth, b.baseAddress! + bBatch * depth * columns,
                                                into: c.baseAddress! + index * rows * columns, rows: rows, depth: depth, columns: columns)
                        }
                    }
                }
                initialized = aBatches.count * rows * columns
            }
        }
        if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
        if b.shape.count == 1 { shape.removeLast() }
        return Tensor(shape: shape, floats: values, as: a.elementType)
    }

    static func product(_ a: [Float], _ b: [Float], rows: Int, depth: Int, columns: Int, on multiplier: MatrixMultiplier) -> [Float] {
        [Float](recycledCapacity: rows * columns) { c, initialized in
            if rows * columns > 0 {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        multiplier.multiply(a.baseAddress!, b.baseAddress!, into: c.baseAddress!, rows: rows, depth: depth, columns: columns)
                    }
                }
            }
            initialized = rows * columns
        }
    }
}

/// (M, K, N) for A [..., M, K] times B [K, N], with A's leading dimensions folded into M.
func matrixDimensions(_ a: [Int], _ b: [Int]) throws -> (rows: Int, depth: Int, columns: Int) {
    guard a.count >= 2, b.count == 2 else {
        throw InferenceError.invalidOperand("expects A of rank >= 2 and a 2-D B, got \(a) and \(b)")
    }
    guard a[a.count - 1] == b[0] else {
        throw InferenceError.invalidOperand("inner dimensions differ: A \(a), B \(b)")
    }
    return (a.dropLast().reduce(1, *), b[0], b[1])
}

extension MatMul: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        [try StaticShapes.matmul(inputs.first ?? nil, inputs.count > 1 ? inputs[1] : nil)]
    }
}
