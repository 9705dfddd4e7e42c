import CQuantKernels

/// MatMulBlockDequantized(A, B, scale, zero point; block_size): A [..., K] x DequantizeLinear(B) for
/// a constant B [K, N] quantized in blocks along K, what the engine fuses an int4 weight-only
/// MatMul into at load. Each run dequantizes one strip of B's columns at a time into a float panel
/// laid out as the packed float GEMM reads one strip (K rows of 24 columns), which stays in cache,
/// and multiplies A by it, so B's float values never exist whole.
struct BlockDequantizedMatMul: SingleOutputOperator {
    private let weights: BlockQuantizedWeights
    private let multiplier: MatrixMultiplier
    /// Columns per panel: one strip of the packed float GEMM.
    private static let stripColumns = QF_FLOAT_STRIP_COLUMNS

    init(_ context: OperatorContext) throws {
        guard let b = context.constantInput(1), let scale = context.constantInput(2) else {
            throw InferenceError.invalidOperand("MatMulBlockDequantized needs constant B and scale")
        }
        self.init(weights: try BlockQuantizedWeights(
            b, scale: scale, zeroPoint: context.constantInput(3), blockSize: context.attributes.int("block_size", default: 0)),
                  multiplier: context.multiplier)
    }

    /// Over weights already unpacked (MatMulNBits').
    init(weights: BlockQuantizedWeights, multiplier: MatrixMultiplier) {
        self.weights = weights
        self.multiplier = multiplier
    }

    var preparedBytes: Int { weights.residentBytes }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try inputs.required(0)
        let values = try a.floatOperand("A")
        let (rows, depth, columns) = try matrixDimensions(a.shape, [weights.depth, weights.columns])
        let stripColumns = Self.stripColumns
        let strips = (columns + stripColumns - 1) / stripColumns
        let product = [Float](recycledCapacity: rows * columns) { c, initialized in
            initialized = rows * columns
            guard let c = c.baseAddress else { return }
            values.withUnsafeBufferPointer { a in
                let a = a.baseAddress!
                MatrixMultiplier.split(strips, into: multiplier.parallelParts(rows * depth * columns)) { assigned in
                    let panel = UnsafeMutablePointer<Float>.allocate(capacity: depth * stripColumns)
                    defer { panel.deallocate() }
                    for strip in assigned {
                        let start = strip * stripColumns, width = min(stripColumns, columns - start)
                        weights.dequantize(columns: start..<(start + width), into: panel, rowStride: stripColumns)
                        multiplier.path.multiply(a, packed: panel, into: c + start, ldc: columns, rows: rows, depth: depth, columns: width)
                    }
                }
            }
        }
        return Tensor(shape: Array(a.shape.dropLast()) + [columns], floats: product, as: a.elementType)
    }
}
