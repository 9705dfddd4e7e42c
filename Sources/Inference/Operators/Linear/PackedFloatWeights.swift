import CQuantKernels

/// A constant float weight matrix [K, N] packed once at load into the strips the C kernels stream
/// (see CQuantKernels.h), so a product never re-reads B row by row.
struct PackedFloatWeights: Sendable {
    let depth: Int
    let columns: Int
    private let packed: [Float]

    init(rowMajor weights: [Float], depth: Int, columns: Int) {
        precondition(weights.count == depth * columns, "weights hold \(weights.count) values, not \(depth) x \(columns)")
        self.depth = depth
        self.columns = columns
        packed = [Float](unsafeUninitializedCapacity: qf_packed_f32_size(depth, columns)) { buffer, initialized in
            qf_pack_f32(weights, columns, depth, columns, buffer.baseAddress)
            initialized = buffer.count
        }
    }

    var residentBytes: Int { packed.count * MemoryLayout<Float>.stride }

    /// A [rows, depth] x B, row-major.
    func multiply(_ a: [Float], rows: Int, on multiplier: MatrixMultiplier) -> [Float] {
        precondition(a.count == rows * depth, "A holds \(a.count) values, not \(rows) x \(depth)")
        return [Float](recycledCapacity: rows * columns) { c, initialized in
            if rows * columns > 0 {
                multiplier.multiply(a, packed: packed, into: c.baseAddress!, rows: rows, depth: depth, columns: columns)
            }
            initialized = rows * columns
        }
    }
}

extension Array where Element == Float {
    /// This row-major [rows, columns] matrix transposed to [columns, rows] (weights at load).
    func transposedMatrix(rows: Int, columns: Int) -> [Float] {
        precondition(count == rows * columns, "\(count) values are not a \(rows) x \(columns) matrix")
        return [Float](unsafeUninitializedCapacity: count) { transposed, initialized in
            withUnsafeBufferPointer { qf_transpose_f32($0.baseAddress, rows, columns, transposed.baseAddress) }
            initialized = count
        }
    }
}
