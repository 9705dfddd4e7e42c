/// Det: the determinant of each square matrix in the last two axes, by LU decomposition with partial
/// pivoting in double precision.
struct Determinant: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count >= 2, x.shape[x.shape.count - 1] == x.shape[x.shape.count - 2] else {
            throw InferenceError.invalidOperand("Det needs square matrices in the last two axes, got \(x.shape)")
        }
        let n = x.shape[x.shape.count - 1], values = x.storage.doubles
        let results = (0..<(x.count / max(n * n, 1))).map { matrix in
            Float(Self.determinant(Array(values[(matrix * n * n)..<((matrix + 1) * n * n)]), n: n))
        }
        return Tensor(shape: Array(x.shape.dropLast(2)), floats: results, as: x.elementType)
    }

    private static func determinant(_ matrix: [Double], n: Int) -> Double {
        var a = matrix, result = 1.0
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
            if a[pivot * n + column] == 0 { return 0 }
            if pivot != column {
                for k in 0..<n { a.swapAt(pivot * n + k, column * n + k) }
                result = -result
            }
            result *= a[column * n + column]
            for row in (column + 1)..<n {
                let factor = a[row * n + column] / a[column * n + column]
                for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
            }
        }
        return result
    }
}
