/// C[rows, columns] = A[rows, depth] x B[depth, columns], all row-major and contiguous.
/// The reference path for every float product (MatMul, Gemm, convolution via im2col).
func multiplyFloatMatrices(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                           rows: Int, depth: Int, columns: Int) {
    c.update(repeating: 0, count: rows * columns)
    // Row of A times rows of B: the innermost loop runs over contiguous memory in B and C.
    // (Blocking four rows of C per pass over B measured no faster on the MLP at batch 32.)
    for row in 0..<rows {
        let cRow = c + row * columns
        for inner in 0..<depth {
            let scale = a[row * depth + inner]
            let bRow = b + inner * columns
            for column in 0..<columns {
                cRow[column] += scale * bRow[column]
            }
        }
    }
}
