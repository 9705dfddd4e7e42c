import Foundation

/// Add, Sub, Mul, Div, Pow, Max/Min (two operands) with broadcasting. Floating-point operands compute
/// in FP32 and keep their type; integer operands compute in Int64 and wrap to their type, as numpy does.
struct ElementwiseArithmetic: SingleOutputOperator, ShapeBroadcasting {
    enum Kind: String, CaseIterable {
        case add = "Add", subtract = "Sub", multiply = "Mul", divide = "Div", power = "Pow"

        /// `left op right` over the broadcast shape, each operation a literal closure so the optimiser
        /// inlines it into the loop (through a closure-valued property it ran 5x slower).
        func combineFloats(_ left: [Float], _ right: [Float], with broadcasting: Broadcasting) -> [Float] {
            switch self {
            case .add: broadcasting.apply(left, right) { $0 + $1 }
            case .subtract: broadcasting.apply(left, right) { $0 - $1 }
            case .multiply: broadcasting.apply(left, right) { $0 * $1 }
            case .divide: broadcasting.apply(left, right) { $0 / $1 }
            // Squaring (LayerNorm's variance) is exact as a product and several times cheaper than powf.
            case .power where right == [2]: broadcasting.apply(left, right) { base, _ in base * base }
            case .power: broadcasting.apply(left, right) { Foundation.pow($0, $1) }
            }
        }

        /// nil where the integer result is undefined (division by zero, negative exponent).
        var integerCombine: (Int64, Int64) -> Int64? {
            switch self {
            case .add: { $0 &+ $1 }
            case .subtract: { $0 &- $1 }
            case .multiply: { $0 &* $1 }
            case .divide: { $1 == 0 ? nil : $0.dividedReportingOverflow(by: $1).partialValue }
            case .power: { base, exponent in
                guard exponent >= 0 else { return nil }
                var result: Int64 = 1
                for _ in 0..<exponent { result = result &* base }
                return result
            }
            }
        }
    }

    let kind: Kind
    let broadcasts = ShapeKeyedCache<Broadcasting>()

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let left = try inputs.required(0), right = try inputs.required(1)
        let broadcasting = try broadcasts.broadcasting(left.shape, right.shape)
        if left.elementType.isFloatingPoint && right.elementType.isFloatingPoint {
            // FP16 values are held in FP32, so the two float types mix; the result is FP16 only if both are.
            let values = kind.combineFloats(left.floats, right.floats, with: broadcasting)
            let type: ElementType = left.elementType == right.elementType ? left.elementType : .float32
            return Tensor(shape: broadcasting.shape, floats: values, as: type)
        }
        // Pow's exponent may have another type than its base; every other operator needs one type.
        if kind != .power, left.elementType != right.elementType {
            throw InferenceError.invalidOperand("A is \(left.elementType.rawValue) but B is \(right.elementType.rawValue)")
        }
        guard left.elementType != .bool else { throw InferenceError.invalidOperand("\(kind.rawValue) does not take bool operands") }
        if left.elementType.isFloatingPoint || right.elementType.isFloatingPoint {
            // A float base with an integer exponent, or the reverse (Pow): numpy computes in floating point and casts back.
            let values = kind.combineFloats(left.floats, right.floats, with: broadcasting)
            return try Tensor(shape: broadcasting.shape, floats: values).converted(to: left.elementType)
        }
        let combine = kind.integerCombine
        let values = broadcasting.apply(left.int64s, right.int64s, combine)
        let defined = try values.map { value in
            guard let value else { throw InferenceError.invalidOperand("integer \(kind.rawValue) is undefined (division by zero or negative exponent)") }
            return value
        }
        return try Tensor(shape: broadcasting.shape, int64s: defined).converted(to: left.elementType)
    }
}
