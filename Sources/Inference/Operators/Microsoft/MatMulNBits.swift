/// MatMulNBits (com.microsoft), onnxruntime's weight-only quantized MatMul: Y = A [..., K] x B' + bias
/// where B' [K, N] is B dequantized in blocks of `block_size` along K, (level - zero point) x scale.
/// B is stored [N, k_blocks, blob]: each block of one column's levels packed along K, 4-bit levels two
/// a byte (the first in the low nibble) or 8-bit ones a byte; scales are [N, k_blocks]; zero points are
/// packed the same way ([N, ceil(k_blocks x bits / 8)] uint8) or unpacked in the scales' type, and
/// default to 2^(bits - 1). Unpacked at load onto the engine's blocked MatMul, which dequantizes a strip
/// of B' at a time. accuracy_level is ignored: A is never quantized.
struct MatMulNBits: SingleOutputOperator {
    private let product: BlockDequantizedMatMul
    private let columns: Int

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes, node = context.node.name
        let depth = try attributes.requiredInt("K"), columns = try attributes.requiredInt("N")
        let bits = try attributes.int("bits", default: 4), blockSize = try attributes.requiredInt("block_size")
        guard bits == 4 || bits == 8 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "bits", reason: "must be 4 or 8 (2-bit weights are not supported), got \(bits)")
        }
        guard blockSize >= 16, blockSize & (blockSize - 1) == 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "block_size", reason: "must be a power of 2 of at least 16, got \(blockSize)")
        }
        guard depth > 0, columns > 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: depth > 0 ? "N" : "K", reason: "must be positive")
        }
        guard try attributes.int("weight_prepacked", default: 0) == 0 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "weight_prepacked", reason: "names a GPU layout; only 0 runs here")
        }
        guard context.node.inputs.count <= 4 || context.node.inputs[4].isEmpty else {
            throw InferenceError.invalidOperand("MatMulNBits' g_idx (deprecated) is not supported")
        }
        guard let b = context.constantInput(1), let scales = context.constantInput(2) else {
            throw InferenceError.invalidOperand("MatMulNBits needs constant B and scales")
        }
        let layout = Layout(depth: depth, columns: columns, bits: bits, blockSize: blockSize)
        let weights = try BlockQuantizedWeights(
            try layout.levels(b), scale: try layout.scales(scales), zeroPoint: try layout.zeroPoints(context.constantInput(3), scales: scales),
            blockSize: blockSize)
        product = BlockDequantizedMatMul(weights: weights, multiplier: context.multiplier)
        self.columns = columns
    }

    var preparedBytes: Int { product.preparedBytes }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let y = try product.run([try inputs.required(0)])
        guard let bias = inputs.optional(5) else { return y }
        let offsets = try bias.floatOperand("bias")
        guard offsets.count == columns else { throw InferenceError.invalidOperand("bias must hold N = \(columns) values, got \(bias.shape)") }
        var values = y.floats
        values.addRowBias(offsets)
        return Tensor(shape: y.shape, floats: values, as: y.elementType)
    }

    /// Where B's levels, the scales and the zero points of element (k, n) of B' sit.
    private struct Layout {
        let depth: Int
        let columns: Int
        let bits: Int
        let blockSize: Int

        var blocks: Int { (depth + blockSize - 1) / blockSize }

        /// B [N, k_blocks, blob] unpacked to B' [K, N] (uint4 or uint8 levels).
        func levels(_ b: Tensor) throws -> Tensor {
            let blob = blockSize * bits / 8
            guard case .uint8(let bytes) = b.storage, b.count == columns * blocks * blob else {
                throw InferenceError.invalidOperand("B must be uint8 [\(columns), \(blocks), \(blob)], got \(b.elementType.rawValue) \(b.shape)")
            }
            let levels = (0..<(depth * columns)).map { index in
                let (k, n) = (index / columns, index % columns)
                let start = (n * blocks + k / blockSize) * blob
                return unpacked(bytes, at: start, k % blockSize)
            }
            return tensor(shape: [depth, columns], levels)
        }

        /// scales [N, k_blocks] transposed to [k_blocks, N].
        func scales(_ scales: Tensor) throws -> Tensor {
            guard scales.count == columns * blocks else {
                throw InferenceError.invalidOperand("scales must hold N x k_blocks = \(columns * blocks) values, got \(scales.shape)")
            }
            return Transpose.permuted(scales.reshaped(to: [columns, blocks]), by: [1, 0])
        }

        /// The zero points as [k_blocks, N] of B's level type (packed uint8, or 2^(bits - 1) when
        /// omitted), or of the scales' type when given so.
        func zeroPoints(_ zeroPoints: Tensor?, scales: Tensor) throws -> Tensor {
            guard let zeroPoints else {
                let levels = [UInt8](repeating: UInt8(1 << (bits - 1)), count: blocks * columns)
                return tensor(shape: [blocks, columns], levels)
            }
            if zeroPoints.elementType == scales.elementType { return try self.scales(zeroPoints) }
            let rowBytes = (blocks * bits + 7) / 8
            guard case .uint8(let bytes) = zeroPoints.storage, bytes.count == columns * rowBytes else {
                throw InferenceError.invalidOperand(
                    "zero_points must be \(scales.elementType.rawValue) like the scales or uint8 packed as N x \(rowBytes) bytes, got \(zeroPoints.elementType.rawValue) \(zeroPoints.shape)")
            }
            let levels = (0..<(blocks * columns)).map { index in
                unpacked(bytes, at: (index % columns) * rowBytes, index / columns)
            }
            return tensor(shape: [blocks, columns], levels)
        }

        /// Levels as a uint4 or uint8 tensor.
        private func tensor(shape: [Int], _ levels: [UInt8]) -> Tensor {
            Tensor(shape: shape, storage: bits == 4 ? .uint4(levels) : .uint8(levels))
        }

        /// Level `position` of the levels packed from byte `start` on.
        private func unpacked(_ bytes: [UInt8], at start: Int, _ position: Int) -> UInt8 {
            guard bits == 4 else { return bytes[start + position] }
            let byte = bytes[start + position / 2]
            return position % 2 == 0 ? byte & 0x0F : byte >> 4
        }
    }
}

extension MatMulNBits: ShapeRule {
    /// A [..., K] to [..., N].
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let a = inputs.first ?? nil, !a.isEmpty else { return [] }
        return [Array(a.dropLast()) + [columns]]
    }
}
