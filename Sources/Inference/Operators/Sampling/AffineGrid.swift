/// AffineGrid (opset 20): the sampling grid GridSample reads for an affine transform. For theta
/// [N, 2, 3] and size [N, C, H, W] it is [N, H, W, 2]; for theta [N, 3, 4] and size [N, C, D, H,
/// W], [N, D, H, W, 3]. Each point is theta applied to the point's own normalized coordinates
/// (x, y[, z], 1), which span -1 to 1 across the element centres with align_corners and across
/// the outer edges without.
struct AffineGrid: SingleOutputOperator {
    private let alignCorners: Bool

    init(_ context: OperatorContext) throws {
        alignCorners = try context.attributes.int("align_corners", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let theta = try inputs.required(0), size = try inputs.required(1).int64s.map { Int($0) }
        let rank = size.count - 2
        guard rank == 2 || rank == 3, theta.shape == [size[0], rank, rank + 1], size.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.invalidOperand("theta \(theta.shape) must be [N, 2, 3] with size [N, C, H, W], or [N, 3, 4] with size [N, C, D, H, W]; size is \(size)")
        }
        let matrices = try theta.floatOperand("theta"), spatial = Array(size[2...])
        // Normalized coordinates along each spatial axis; points are (x, y, z) while axes run (z, y, x).
        let axisCoordinates = spatial.map { length in (0..<length).map { normalizedCoordinate($0, length: length) } }
        let pointCount = spatial.reduce(1, *)
        var grid: [Float] = []
        grid.reserveCapacity(size[0] * pointCount * rank)
        for batch in 0..<size[0] {
            let matrix = matrices[(batch * rank * (rank + 1))...]
            forEachIndex(of: spatial) { index in
                let point = index.indices.reversed().map { axisCoordinates[$0][index[$0]] } + [1]
                for row in 0..<rank {
                    let start = matrix.startIndex + row * (rank + 1)
                    grid.append(zip(matrix[start...].prefix(rank + 1), point).reduce(0) { $0 + $1.0 * $1.1 })
                }
            }
        }
        return Tensor(shape: [size[0]] + spatial + [rank], floats: grid, as: theta.elementType)
    }

    /// An axis of one element sits at 1 with align_corners (onnxruntime's linspace ends there) and at
    /// 0 without.
    private func normalizedCoordinate(_ index: Int, length: Int) -> Float {
        if alignCorners { return length > 1 ? -1 + 2 * Float(index) / Float(length - 1) : 1 }
        return -1 + Float(2 * index + 1) / Float(length)
    }
}
