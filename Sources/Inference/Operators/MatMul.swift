/// Float MatMul of A [..., M, K] by a 2-D B [K, N]; leading dimensions of A are batch rows.
struct MatMul: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0), b = try inputs.required(1)
        let (rows, depth, columns) = try matrixDimensions(a.shape, b.shape)
        let product = multiply(try a.floatOperand("A"), try b.floatOperand("B"), rows: rows, depth: depth, columns: columns)
        return [Tensor(shape: a.shape.dropLast() + [columns], floats: product)]
    }

    private func multiply(_ a: [Float], _ b: [Float], rows: Int, depth: Int, columns: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * columns) { c, initialized in
            c.initialize(repeating: 0)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    // Row of A times rows of B: the innermost loop runs over contiguous memory in B and C.
                    for row in 0..<rows {
                        let cRow = UnsafeMutableBufferPointer(rebasing: c[(row * columns)..<((row + 1) * columns)])
                        for inner in 0..<depth {
                            let scale = a[row * depth + inner]
                            let bRow = inner * columns
                            for column in 0..<columns {
                                cRow[column] += scale * b[bRow + column]
                            }
                        }
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
