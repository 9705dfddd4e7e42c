import CQuantKernels

/// An int8 weight matrix [K, N] packed once into the layout the C kernels read
/// (see CQuantKernels.h), with its column sums.
struct PackedInt8Weights: Sendable {
    let depth: Int
    let columns: Int
    private let packed: [Int8]
    private let columnSums: [Int32]
    /// Every row pair's |B[2r][n]| + |B[2r+1][n]| <= 128: the avx2 path may then multiply raw bytes.
    private let pairsFitInt16: Bool

    /// The kernel path every session in this process uses, chosen once from CPU features.
    static var kernelPathName: String { String(cString: qf_kernel_path_name()) }

    init(rowMajor weights: [Int8], depth: Int, columns: Int) {
        precondition(weights.count == depth * columns, "weights hold \(weights.count) values, not \(depth) x \(columns)")
        self.depth = depth
        self.columns = columns
        var sums = [Int32](repeating: 0, count: columns)
        var pairsFit: Int32 = 0
        packed = [Int8](unsafeUninitializedCapacity: qf_packed_s8_size(depth, columns)) { buffer, initialized in
            weights.withUnsafeBufferPointer { source in
                sums.withUnsafeMutableBufferPointer { sums in
                    pairsFit = qf_pack_s8(source.baseAddress, columns, depth, columns, buffer.baseAddress, sums.baseAddress)
                }
            }
            initialized = buffer.count
        }
        columnSums = sums
        pairsFitInt16 = pairsFit == 1
    }

    var residentBytes: Int { packed.count + columnSums.count * MemoryLayout<Int32>.stride }

    /// C = (A - aZero) x (B - bZero) for row-major uint8 A [rows, depth], into C's rows `ldc` apart
    /// (default: packed tight); `bZero` is per column, or nil for zeros. Rows are shared out over up
    /// to `threads` threads when the product is large enough.
    func multiply(_ a: UnsafePointer<UInt8>, rows: Int, aZero: UInt8, bZero: [Int8]?, threads: Int = 1,
                  into c: UnsafeMutablePointer<Int32>, ldc: Int? = nil) {
        precondition((bZero?.count ?? columns) == columns, "\(bZero?.count ?? 0) zero points for \(columns) packed columns")
        let ldc = ldc ?? columns
        let parts = rows * depth * columns >= MatrixMultiplier.smallestShared ? threads : 1
        withKernelView { weights in
            (bZero ?? []).withUnsafeBufferPointer { zeros in
                let zeros = bZero == nil ? nil : zeros.baseAddress
                MatrixMultiplier.split(rows, into: parts) { block in
                    qf_gemm_u8s8(a + block.lowerBound * depth, depth, block.count, aZero, weights, zeros, c + block.lowerBound * ldc, ldc)
                }
            }
        }
    }

    /// The C descriptor of these weights, valid inside `body` only.
    func withKernelView<Result>(_ body: (UnsafePointer<qf_packed_s8>) throws -> Result) rethrows -> Result {
        try packed.withUnsafeBufferPointer { data in
            try columnSums.withUnsafeBufferPointer { sums in
                var view = qf_packed_s8(
                    data: data.baseAddress, column_sums: sums.baseAddress, k: depth, n: columns, pairs_fit_int16: pairsFitInt16 ? 1 : 0)
                return try body(&view)
            }
        }
    }
}
