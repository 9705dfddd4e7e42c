/// Permutes the axes (default: reversed).
struct Transpose: SingleOutputOperator {
    let permutation: [Int]?

    init(_ context: OperatorContext) throws {
        permutation = try context.attributes.ints("perm")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let rank = x.shape.count
        let permutation = permutation ?? Array((0..<rank).reversed())
        guard permutation.sorted() == Array(0..<rank) else {
            throw InferenceError.invalidOperand("perm \(permutation) is not a permutation of the \(rank) axes of \(x.shape)")
        }
        return Self.permuted(x, by: permutation)
    }

    /// `x` with its axes in the order `permutation` (a valid permutation of them), copied.
    static func permuted(_ x: Tensor, by permutation: [Int]) -> Tensor {
        let shape = permutation.map { x.shape[$0] }
        let sourceStrides = permutation.map { x.strides[$0] }
        return Tensor(shape: shape, storage: x.storage.strided(shape: shape, sourceStrides: sourceStrides, offset: 0))
    }

    /// Source positions of every element of `shape` (row-major) when stepping axis i moves `sourceStrides[i]`.
    static func positions(shape: [Int], sourceStrides: [Int], offset: Int) -> [Int] {
        let count = shape.reduce(1, *)
        let width = shape.last ?? 1, step = sourceStrides.last ?? 0
        return [Int](unsafeUninitializedCapacity: count) { positions, initialized in
            Broadcasting.forEachRow(of: shape, sourceStrides, sourceStrides) { row, start, _ in
                let out = positions.baseAddress! + row * width
                for j in 0..<width { (out + j).initialize(to: offset + start + j * step) }
            }
            initialized = count
        }
    }
}

extension Transpose: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        let permutation = permutation ?? Array(x.indices.reversed())
        guard permutation.sorted() == Array(x.indices) else {
            throw InferenceError.invalidOperand("perm \(permutation) is not a permutation of the \(x.count) axes of \(StaticShapes.describe(x))")
        }
        return [permutation.map { x[$0] }]
    }
}
