/// FusedMatMul (com.microsoft): Y = alpha x A' B', MatMul's broadcasting, where transA / transB
/// swap an operand's last two axes and transBatchA / transBatchB first move its leading axis to
/// just before the last (A [d0, d1, ..., dn-1] is read as [d1, ..., d0, dn-1]), as onnxruntime fuses
/// Transposes into MatMul. A constant B is rearranged (and packed, when 2-D) once at load.
struct FusedMatMul: SingleOutputOperator {
    let alpha: Float
    private let arrangements: (a: Arrangement, b: Arrangement)
    private let constantB: Tensor?
    private let product: MatMul

    /// How one operand's axes are read.
    private struct Arrangement {
        let transposed: Bool
        let batchTransposed: Bool

        /// The axis order of the operand as multiplied, for an operand of `rank`.
        func permutation(rank: Int) -> [Int] {
            guard rank >= 2 else { return Array(0..<rank) }
            var order = batchTransposed ? Array(1..<(rank - 1)) + [0, rank - 1] : Array(0..<rank)
            if transposed { order.swapAt(rank - 2, rank - 1) }
            return order
        }

        func arranged(_ tensor: Tensor) -> Tensor {
            let order = permutation(rank: tensor.shape.count)
            return order == Array(order.indices) ? tensor : Transpose.permuted(tensor, by: order)
        }

        func arranged(_ shape: StaticShape) -> StaticShape { permutation(rank: shape.count).map { shape[$0] } }
    }

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        alpha = try attributes.float("alpha", default: 1)
        arrangements = (
            Arrangement(transposed: try attributes.int("transA", default: 0) != 0, batchTransposed: try attributes.int("transBatchA", default: 0) != 0),
            Arrangement(transposed: try attributes.int("transB", default: 0) != 0, batchTransposed: try attributes.int("transBatchB", default: 0) != 0))
        constantB = context.constantInput(1).map(arrangements.b.arranged)
        product = MatMul(multiplier: context.multiplier, constantB: constantB)
    }

    var preparedBytes: Int { product.preparedBytes }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = arrangements.a.arranged(try inputs.required(0))
        let b = try constantB ?? arrangements.b.arranged(try inputs.required(1))
        let y = try product.run([a, b])
        guard alpha != 1 else { return y }
        return Tensor(shape: y.shape, floats: y.floats.map { $0 * alpha }, as: y.elementType)
    }
}

extension FusedMatMul: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        let a = (inputs.first ?? nil).map(arrangements.a.arranged), b = (inputs.count > 1 ? inputs[1] : nil).map(arrangements.b.arranged)
        return [try StaticShapes.matmul(a, b)]
    }
}
