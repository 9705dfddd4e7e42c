import CQuantKernels

/// softmax(Q K^T / c + mask) V (or Q K^T x c) over 4-D heads, Q [B, H, M, D], K^T [B, H, D, N],
/// V [B, H, N, E] -> [B, H, M, E], each of Q, K^T, V and the result possibly stored with axes 1 and 2
/// swapped (see fuseAttentionHeads). One head at a time: its M x N scores stay in one buffer from
/// the first product to the second, each element divided (or multiplied) and masked as the Div and
/// Add it replaces did, so the result is theirs exactly. A mask that does not broadcast to
/// [B, H, M, N], heads whose batches differ, and FP16 heads (whose chain rounds every step to FP16)
/// run the same steps over whole tensors instead.
struct HeadAttention: SingleOutputOperator {
    private let swapped: (q: Bool, k: Bool, v: Bool, out: Bool)
    private let divides: Bool
    private let multiplier: MatrixMultiplier
    private let scores: HeadMatMul, context: HeadMatMul

    init(_ context: OperatorContext) throws {
        func flag(_ name: String) throws -> Bool { try context.attributes.int(name, default: 0) != 0 }
        swapped = (try flag("q_swapped"), try flag("k_swapped"), try flag("v_swapped"), try flag("out_swapped"))
        divides = try flag("divide")
        multiplier = context.multiplier
        scores = HeadMatMul(swapped: [swapped.q, swapped.k, false], multiplier: multiplier)
        self.context = HeadMatMul(swapped: [false, swapped.v, swapped.out], multiplier: multiplier)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let q = try inputs.required(0), k = try inputs.required(1), v = try inputs.required(2)
        let mask = try inputs.required(3), factor = try inputs.required(4)
        guard let q4 = HeadMatMul.view(q.shape, swapped: swapped.q), let k4 = HeadMatMul.view(k.shape, swapped: swapped.k),
              let v4 = HeadMatMul.view(v.shape, swapped: swapped.v),
              q4.shape.prefix(2) == k4.shape.prefix(2), k4.shape.prefix(2) == v4.shape.prefix(2),
              q4.shape[3] == k4.shape[2], k4.shape[3] == v4.shape[2], mask.elementType.isFloatingPoint, factor.count == 1,
              // FP16 heads round every step of the chain to FP16; the one-buffer path keeps FP32 scores.
              [q, k, v].allSatisfy({ $0.elementType == .float32 }),
              let maskStrides = Self.broadcastStrides(mask.shape, to: [q4.shape[0], q4.shape[1], q4.shape[2], k4.shape[3]])
        else { return try stepByStep(q, k, v, mask: mask, factor: factor) }

        let (batches, heads, rows, depth, keys, width) = (q4.shape[0], q4.shape[1], q4.shape[2], q4.shape[3], k4.shape[3], v4.shape[3])
        let storedShape = swapped.out ? [batches, rows, heads, width] : [batches, heads, rows, width]
        let out4 = HeadMatMul.view(storedShape, swapped: swapped.out)!
        let qValues = try q.floatOperand("Q"), kValues = try k.floatOperand("K"), vValues = try v.floatOperand("V")
        let maskValues = mask.floats, c = factor.float(at: 0), divides = divides
        var head = [Float](recycledUnwritten: rows * keys)
        let count = batches * heads * rows * width
        let values = [Float](recycledCapacity: count) { out, initialized in
            qValues.withUnsafeBufferPointer { q in
            kValues.withUnsafeBufferPointer { k in
            vValues.withUnsafeBufferPointer { v in
            maskValues.withUnsafeBufferPointer { mask in
            head.withUnsafeMutableBufferPointer { head in
                let s = head.baseAddress!
                for batch in 0..<batches where rows * width > 0 {
                    for h in 0..<heads {
                        multiplier.multiply(q.baseAddress! + q4.offset(batch, h), lda: q4.strides[2],
                                            k.baseAddress! + k4.offset(batch, h), ldb: k4.strides[2],
                                            into: s, rows: rows, depth: depth, columns: keys)
                        for i in 0..<rows {
                            let row = s + i * keys
                            let maskRow = mask.baseAddress! + batch * maskStrides[0] + h * maskStrides[1] + i * maskStrides[2]
                            Self.scaleAndMask(row, count: keys, by: c, dividing: divides, mask: maskRow, maskStride: maskStrides[3])
                        }
                        qf_softmax_rows_f32(s, rows, keys)
                        multiplier.multiply(s, v.baseAddress! + v4.offset(batch, h), ldb: v4.strides[2],
                                            into: out.baseAddress! + out4.offset(batch, h), ldc: out4.strides[2],
                                            rows: rows, depth: keys, columns: width)
                    }
                }
            }}}}}
            initialized = count
        }
        head.recycle()
        return Tensor(shape: storedShape, floats: values, as: q.elementType)
    }

    /// row[j] = row[j] / c + mask[j * stride] (or row[j] * c + ...), as Div then Add round them.
    @inline(__always)
    private static func scaleAndMask(_ row: UnsafeMutablePointer<Float>, count: Int, by c: Float, dividing: Bool,
                                     mask: UnsafePointer<Float>, maskStride: Int) {
        switch (dividing, maskStride) {
        case (true, 1): for j in 0..<count { row[j] = row[j] / c + mask[j] }
        case (false, 1): for j in 0..<count { row[j] = row[j] * c + mask[j] }
        case (true, _): for j in 0..<count { row[j] = row[j] / c + mask[j * maskStride] }
        case (false, _): for j in 0..<count { row[j] = row[j] * c + mask[j * maskStride] }
        }
    }

    /// Element strides that read a tensor of `shape` as broadcast to the 4-D `target` (0 along its
    /// size-1 axes), or nil when it does not broadcast to exactly `target`.
    private static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int]? {
        guard shape.count <= target.count else { return nil }
        let padded = Array(repeating: 1, count: target.count - shape.count) + shape
        var strides = Array(repeating: 0, count: target.count), step = 1
        for axis in (0..<target.count).reversed() {
            guard padded[axis] == target[axis] || padded[axis] == 1 else { return nil }
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        return strides
    }

    /// The replaced nodes one after the other, over whole tensors.
    private func stepByStep(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor, factor: Tensor) throws -> Tensor {
        let product = try scores.run([q, k])
        let scaled = try ElementwiseArithmetic(kind: divides ? .divide : .multiply).run([product, factor])
        let masked = try ElementwiseArithmetic(kind: .add).run([scaled, mask])
        guard let length = masked.shape.last else { throw InferenceError.invalidOperand("attention scores must not be scalars") }
        var weights = try masked.floatOperand("scores")
        weights.withUnsafeMutableBufferPointer { qf_softmax_rows_f32($0.baseAddress, length == 0 ? 0 : $0.count / length, length) }
        return try context.run([Tensor(shape: masked.shape, floats: weights, as: masked.elementType), v])
    }
}
