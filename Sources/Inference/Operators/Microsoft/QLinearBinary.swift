/// QLinearAdd and QLinearMul (com.microsoft): C = quantize(dequantize(A) op dequantize(B)) for
/// uint8 or int8 A, B and C with per-tensor scales and zero points, numpy broadcasting, computed
/// in FP32 as onnxruntime's x86 kernels compute it so that the levels are the same:
///   Add: (a - za) sa / sc + (b - zb) sb / sc + zc, the two ratios and the constant part folded
///        first and each varying term added by a fused multiply-add;
///   Mul: (a - za)(b - zb) exact in integers, times sa sb / sc, plus zc;
/// rounded half to even and saturated.
struct QLinearBinary: SingleOutputOperator, ShapeBroadcasting {
    enum Kind: String {
        case add = "QLinearAdd", multiply = "QLinearMul"
    }

    let kind: Kind
    private let broadcasts = ShapeKeyedCache<Broadcasting>()

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try inputs.required(0), b = try inputs.required(3)
        let type = a.elementType
        guard b.elementType == type else { throw InferenceError.invalidOperand("A is \(type.rawValue) but B is \(b.elementType.rawValue)") }
        let (aScale, aZero) = try QLinearOperands.parameters(inputs, scale: 1, zeroPoint: 2, type: type, role: "A")
        let (bScale, bZero) = try QLinearOperands.parameters(inputs, scale: 4, zeroPoint: 5, type: type, role: "B")
        let (cScale, cZero) = try QLinearOperands.parameters(inputs, scale: 6, zeroPoint: 7, type: type, role: "C")
        let left = try QLinearOperands.levels(a, role: "A"), right = try QLinearOperands.levels(b, role: "B")
        let broadcasting = try broadcasts.broadcasting(a.shape, b.shape)
        let range = QLinearOperands.range(of: type)
        let levels: [Int32]
        switch kind {
        case .multiply:
            let ratio = aScale * bScale / cScale, zero = Float(cZero)
            levels = broadcasting.apply(left, right) { a, b in
                QLinearOperands.saturated(Float((a - aZero) * (b - bZero)) * ratio + zero, to: range)
            }
        case .add:
            let aRatio = aScale / cScale, bRatio = bScale / cScale
            let fixed = Float(cZero) - (aRatio * Float(aZero) + bRatio * Float(bZero))
            // onnxruntime's kernel takes an operand that is one value across a whole run of the
            // output into the constant part (rounded there); otherwise both go through multiply-adds.
            switch Self.constantOperand(a.shape, b.shape, output: broadcasting.shape) {
            case .left:
                levels = broadcasting.apply(left, right) { a, b in
                    QLinearOperands.saturated((fixed + Float(a) * aRatio).addingProduct(Float(b), bRatio), to: range)
                }
            case .right:
                levels = broadcasting.apply(left, right) { a, b in
                    QLinearOperands.saturated((fixed + Float(b) * bRatio).addingProduct(Float(a), aRatio), to: range)
                }
            case nil:
                levels = broadcasting.apply(left, right) { a, b in
                    QLinearOperands.saturated(fixed.addingProduct(Float(b), bRatio).addingProduct(Float(a), aRatio), to: range)
                }
            }
        }
        return QLinearOperands.tensor(shape: broadcasting.shape, levels: levels, type: type)
    }

    private enum Side { case left, right }

    /// The operand that stays one value along the output's innermost axis longer than 1 (it is
    /// broadcast along it): onnxruntime's broadcaster hands the kernel such runs with that operand
    /// as a scalar.
    private static func constantOperand(_ left: [Int], _ right: [Int], output: [Int]) -> Side? {
        guard let axis = output.lastIndex(where: { $0 > 1 }) else { return nil }
        func isBroadcast(_ shape: [Int]) -> Bool {
            let index = axis - (output.count - shape.count)
            return index < 0 || shape[index] == 1
        }
        return isBroadcast(left) ? .left : (isBroadcast(right) ? .right : nil)
    }
}
