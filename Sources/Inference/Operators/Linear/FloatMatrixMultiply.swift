import CQuantKernels

/// C[rows, columns] = A[rows, depth] x B[depth, columns], all row-major and contiguous.
/// The one float product (MatMul, Gemm, convolution via im2col), on the kernel path chosen at start-up.
func multiplyFloatMatrices(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                           rows: Int, depth: Int, columns: Int) {
    qf_sgemm(a, depth, b, columns, c, columns, rows, depth, columns)
}
