/// QLinearSigmoid and QLinearLeakyRelu (com.microsoft): Y = quantize(f(dequantize(X))) for uint8 or
/// int8 X and Y, per-tensor scales and zero points. As in onnxruntime, f is evaluated once per
/// level, on the 256 dequantized levels, and quantized (QuantizeLinear's rounding) into a table
/// each element then looks up; the table is built at load when the scales and zero points are
/// constants. Sigmoid is MLAS's rational approximation of the logistic, which onnxruntime's table
/// holds, not exp.
struct QLinearLookup: SingleOutputOperator, ShapePreserving {
    typealias Function = @Sendable (Float) -> Float

    /// Each operator's f by op type, made from its attributes.
    static let catalogue: [String: @Sendable (NodeAttributes) throws -> Function] = [
        "QLinearSigmoid": { _ in MLASFunctions.logistic },
        "QLinearLeakyRelu": { attributes in
            let alpha = try attributes.float("alpha", default: 0.01)
            return { $0 >= 0 ? $0 : alpha * $0 }
        },
    ]

    private let function: Function
    private let constantTable: Table?

    init(_ context: OperatorContext) throws {
        let function = try context.declaration(in: Self.catalogue)
        self.function = function
        let parameters = (1...4).map(context.constantInput)
        let omittable = [2, 4]
        let known = zip(1...4, parameters).allSatisfy { index, tensor in
            tensor != nil || (omittable.contains(index) && (context.node.inputs.count <= index || context.node.inputs[index].isEmpty))
        }
        // The levels' type is the zero points'; with both omitted it is X's, known only at run.
        let type = parameters[1]?.elementType ?? parameters[3]?.elementType
        constantTable = try type.flatMap { type in known ? try Table(parameters: [nil] + parameters, type: type, function: function) : nil }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let table = try constantTable ?? Table(parameters: inputs, type: x.elementType, function: function)
        guard x.elementType == table.type else {
            throw InferenceError.invalidOperand("X is \(x.elementType.rawValue) but its zero points are \(table.type.rawValue)")
        }
        return table.lookUp(x)
    }

    /// The output level of each of the 256 input levels, indexed by the input's byte.
    struct Table: Sendable {
        let type: ElementType
        private let levels: [UInt8]

        /// From the scale and zero point operands (X's at 1 and 2, Y's at 3 and 4) for levels of
        /// `type`, which the zero points given must have.
        init(parameters: [Tensor?], type: ElementType, function: (Float) -> Float) throws {
            self.type = type
            guard type == .uint8 || type == .int8 else {
                throw InferenceError.invalidOperand("X and its zero points must be uint8 or int8, got \(type.rawValue)")
            }
            let (xScale, xZero) = try QLinearOperands.parameters(parameters, scale: 1, zeroPoint: 2, type: type, role: "X")
            let (yScale, yZero) = try QLinearOperands.parameters(parameters, scale: 3, zeroPoint: 4, type: type, role: "Y")
            let inputs = (0..<256).map { byte in type == .int8 ? Int32(Int8(truncatingIfNeeded: byte)) : Int32(byte) }
            let values = inputs.map { level in function(xScale * Float(level - xZero)) }
            levels = switch QuantizeLinear.perTensor(values, shape: [256], scale: yScale, zeroPoint: Int(yZero), type: type).storage {
            case .int8(let quantized): quantized.map { UInt8(bitPattern: $0) }
            case .uint8(let quantized): quantized
            default: []  // perTensor gives int8 or uint8
            }
        }

        func lookUp(_ x: Tensor) -> Tensor {
            switch x.storage {
            case .int8(let values): Tensor(shape: x.shape, int8s: values.map { Int8(bitPattern: levels[Int(UInt8(bitPattern: $0))]) })
            case .uint8(let values): Tensor(shape: x.shape, uint8s: values.map { levels[Int($0)] })
            default: x
            }
        }
    }
}
