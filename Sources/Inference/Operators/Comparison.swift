/// Equal, Less, LessOrEqual, Greater, GreaterOrEqual with broadcasting; the result is bool.
struct Comparison: SingleOutputOperator, ShapeBroadcasting {
    enum Kind: String, CaseIterable {
        case equal = "Equal", less = "Less", lessOrEqual = "LessOrEqual", greater = "Greater", greaterOrEqual = "GreaterOrEqual"

        func holds<T: Comparable>(_ left: T, _ right: T) -> Bool {
            switch self {
            case .equal: left == right
            case .less: left < right
            case .lessOrEqual: left <= right
            case .greater: left > right
            case .greaterOrEqual: left >= right
            }
        }
    }

    let kind: Kind
    let broadcasts = ShapeKeyedCache<Broadcasting>()

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let left = try inputs.required(0), right = try inputs.required(1)
        guard left.elementType == right.elementType else {
            throw InferenceError.invalidOperand("A is \(left.elementType.rawValue) but B is \(right.elementType.rawValue)")
        }
        let broadcasting = try broadcasts.broadcasting(left.shape, right.shape)
        // Integers compare as Int64 so large int64 values keep their exact order.
        let values = if let leftTexts = left.strings, let rightTexts = right.strings {
            broadcasting.apply(leftTexts, rightTexts, kind.holds)
        } else if left.elementType.isFloatingPoint {
            broadcasting.apply(left.floats, right.floats, kind.holds)
        } else {
            broadcasting.apply(left.int64s, right.int64s, kind.holds)
        }
        return Tensor(shape: broadcasting.shape, bools: values)
    }
}
