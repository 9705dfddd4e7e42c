/// Add, Sub, Mul and Div on floating-point operands, with broadcasting; results are float32.
struct ElementwiseArithmetic: Operator {
    enum Kind: String, CaseIterable {
        case add = "Add", subtract = "Sub", multiply = "Mul", divide = "Div"

        var combine: (Float, Float) -> Float {
            switch self {
            case .add: (+)
            case .subtract: (-)
            case .multiply: (*)
            case .divide: (/)
            }
        }
    }

    let kind: Kind

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let left = try inputs.required(0), right = try inputs.required(1)
        let broadcasting = try Broadcasting(left.shape, right.shape)
        let values = broadcasting.apply(try left.floatOperand("A"), try right.floatOperand("B"), kind.combine)
        return [Tensor(shape: broadcasting.shape, floats: values)]
    }
}
