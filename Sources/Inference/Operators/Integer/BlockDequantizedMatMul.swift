/// MatMulBlockDequantized(A, B, scale, zero point; block_size): A [..., K] x DequantizeLinear(B) for
/// a constant B [K, N] quantized in blocks along K, what the engine fuses an int4 weight-only
/// MatMul into at load. Each run dequantizes one strip of B's columns at a time into a float panel
/// that stays in cache and multiplies A by it, so B's float values never exist whole.
struct BlockDequantizedMatMul: Operator {
    private let weights: BlockQuantizedWeights
    private let multiplier: MatrixMultiplier
    /// Columns per panel: as many as keep the panel within `panelBytes`, a multiple of 8.
    private let stripColumns: Int

    /// Half of a typical 512 KiB L2 cache, so A's rows and the panel share it.
    static let panelBytes = 256 * 1024

    init(_ context: OperatorContext) throws {
        guard let b = context.constantInput(1), let scale = context.constantInput(2) else {
            throw InferenceError.invalidOperand("MatMulBlockDequantized needs constant B and scale")
        }
        weights = try BlockQuantizedWeights(
            b, scale: scale, zeroPoint: context.constantInput(3), blockSize: context.attributes.int("block_size", default: 0))
        multiplier = context.multiplier
        let fitting = Self.panelBytes / MemoryLayout<Float>.stride / max(weights.depth, 1)
        stripColumns = min(weights.columns, max(8, fitting / 8 * 8))
    }

    var preparedBytes: Int { weights.residentBytes }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0)
        let values = try a.floatOperand("A")
        let (rows, depth, columns) = try matrixDimensions(a.shape, [weights.depth, weights.columns])
        let strips = (columns + stripColumns - 1) / stripColumns
        let product = [Float](unsafeUninitializedCapacity: rows * columns) { c, initialized in
            initialized = rows * columns
            guard let c = c.baseAddress else { return }
            values.withUnsafeBufferPointer { a in
                let a = a.baseAddress!
                MatrixMultiplier.split(strips, into: multiplier.parallelParts(rows * depth * columns)) { assigned in
                    let panel = UnsafeMutablePointer<Float>.allocate(capacity: depth * stripColumns)
                    defer { panel.deallocate() }
                    for strip in assigned {
                        let start = strip * stripColumns, width = min(stripColumns, columns - start)
                        weights.dequantize(columns: start..<(start + width), into: panel)
                        multiplier.path.multiply(a, lda: depth, panel, ldb: width, into: c + start, ldc: columns,
                                                 rows: rows, depth: depth, columns: width)
                    }
                }
            }
        }
        return [Tensor(shape: Array(a.shape.dropLast()) + [columns], floats: product, as: a.elementType)]
    }
}
