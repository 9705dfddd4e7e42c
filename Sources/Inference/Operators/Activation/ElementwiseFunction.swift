/// A one-operand function of `UnaryFunction.catalogue`, computed in FP32 on floating-point operands
/// (the result keeps the operand's type), exactly on integers and booleans where the function has
/// those forms.
struct ElementwiseFunction: SingleOutputOperator, ShapePreserving {
    let opType: String
    let function: UnaryFunction

    init(_ context: OperatorContext) throws {
        opType = context.node.opType
        function = try context.declaration(in: UnaryFunction.catalogue)
    }

    init(opType: String, function: UnaryFunction) {
        (self.opType, self.function) = (opType, function)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        try apply(to: try inputs.required(0))
    }

    func apply(to x: Tensor) throws -> Tensor {
        switch x.storage {
        case .bool(let values) where function.bool != nil:
            return Tensor(shape: x.shape, bools: values.map(function.bool!))
        case .float32, .float16, .bfloat16, .float64:
            let operand = try x.floatOperand("X")
            if let vector = function.vector {
                let values = [Float](recycledCapacity: operand.count) { output, initialized in
                    vector(operand, output.baseAddress, operand.count)
                    initialized = operand.count
                }
                return Tensor(shape: x.shape, floats: values, as: x.elementType)
            }
            if let float = function.float { return Tensor(shape: x.shape, floats: operand.map(float), as: x.elementType) }
        case .bool:
            break
        default:
            if let integer = function.integer { return try Tensor(shape: x.shape, int64s: x.int64s.map(integer)).converted(to: x.elementType) }
        }
        throw InferenceError.invalidOperand("\(opType) does not take \(x.elementType.rawValue) operands")
    }
}
