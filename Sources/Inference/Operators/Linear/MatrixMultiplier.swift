import Dispatch

/// The float GEMM an operator runs: a kernel path, and how many threads may share one product
/// (intra-op parallelism). A product is cut into row blocks, or column blocks when B is wider than A
/// is tall or there are fewer rows than threads, each computed by the same kernel, so results do not
/// depend on the thread count.
struct MatrixMultiplier: Sendable {
    let path: FloatKernelPath
    let threads: Int

    /// Below this many multiply-adds a product stays on the calling thread: waking threads costs more.
    static let smallestShared = 1 << 18

    /// C = A x B, row-major, unpacked; rows `lda`, `ldb`, `ldc` apart (default: packed tight), so a
    /// matrix can be a strided view of a larger tensor.
    func multiply(_ a: UnsafePointer<Float>, lda: Int? = nil, _ b: UnsafePointer<Float>, ldb: Int? = nil,
                  into c: UnsafeMutablePointer<Float>, ldc: Int? = nil, rows: Int, depth: Int, columns: Int) {
        let (lda, ldb, ldc) = (lda ?? depth, ldb ?? columns, ldc ?? columns)
        let parts = parallelParts(rows * depth * columns)
        // A wide B (a convolution's columns) is shared out by columns: the kernel packs the B it
        // reads, and row blocks would each pack all of it.
        if rows >= parts, rows >= columns || columns < parts {
            Self.split(rows, into: parts) { block in
                path.multiply(a + block.lowerBound * lda, lda: lda, b, ldb: ldb, into: c + block.lowerBound * ldc,
                              ldc: ldc, rows: block.count, depth: depth, columns: columns)
            }
        } else {
            Self.split(columns, into: parts) { block in
                path.multiply(a, lda: lda, b + block.lowerBound, ldb: ldb, into: c + block.lowerBound,
                              ldc: ldc, rows: rows, depth: depth, columns: block.count)
            }
        }
    }

    /// C = A x packed B (packed strips are whole, so only rows are shared out).
    func multiply(_ a: UnsafePointer<Float>, packed: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                  rows: Int, depth: Int, columns: Int) {
        Self.split(rows, into: min(rows, parallelParts(rows * depth * columns))) { block in
            path.multiply(a + block.lowerBound * depth, packed: packed, into: c + block.lowerBound * columns,
                          rows: block.count, depth: depth, columns: columns)
        }
    }

    func parallelParts(_ work: Int) -> Int {
        work >= Self.smallestShared ? threads : 1
    }

    /// Runs `body` on `parts` near-equal consecutive blocks of 0..<count, concurrently when parts > 1.
    static func split(_ count: Int, into parts: Int, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(parts, count))
        if parts == 1 {
            body(0..<count)
            return
        }
        // Each part writes its own block of the output, and `split` returns only when all are done.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            body((count * part / parts)..<(count * (part + 1) / parts))
        }
    }
}
