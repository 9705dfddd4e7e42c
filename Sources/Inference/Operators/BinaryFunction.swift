import Foundation

/// One elementwise function of two broadcast operands of one type, declared once: its FP32 form,
/// its exact integer form (computed on Int64 and wrapped to the operands' width; nil where undefined)
/// and its boolean form, each where ONNX defines it. Add, Sub, Mul, Div and Pow live in
/// `ElementwiseArithmetic`, whose literal closures vectorise.
struct BinaryFunction: Sendable {
    var float: (@Sendable (Float, Float) -> Float)? = nil
    var integer: (@Sendable (Int64, Int64) -> Int64?)? = nil
    var bool: (@Sendable (Bool, Bool) -> Bool)? = nil
    /// Integers of this type only (BitShift's unsigned operands); nil takes any.
    var integerTypes: Set<ElementType>? = nil

    static let catalogue: [String: @Sendable (NodeAttributes) throws -> BinaryFunction] = [
        // IEEE maximum and minimum: NaN in either operand gives NaN, as numpy's maximum does.
        "Max": { _ in BinaryFunction(float: { .maximum($0, $1) }, integer: { max($0, $1) }) },
        "Min": { _ in BinaryFunction(float: { .minimum($0, $1) }, integer: { min($0, $1) }) },
        "PRelu": { _ in BinaryFunction(float: { $0 < 0 ? $0 * $1 : $0 }, integer: { $0 < 0 ? $0 &* $1 : $0 }) },
        "Mod": { attributes in
            switch try attributes.int("fmod", default: 0) {
            // C's fmod: the remainder takes the dividend's sign.
            case 1: return BinaryFunction(float: { fmod($0, $1) }, integer: { $1 == 0 ? nil : $0.remainderReportingOverflow(dividingBy: $1).partialValue })
            // Python's %: the remainder takes the divisor's sign. Floats need fmod = 1.
            case 0: return BinaryFunction(integer: { a, b in
                guard b != 0 else { return nil }
                let remainder = a.remainderReportingOverflow(dividingBy: b).partialValue
                return remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder
            })
            case let other: throw InferenceError.invalidAttribute(node: attributes.node, attribute: "fmod", reason: "must be 0 or 1, got \(other)")
            }
        },
        "BitShift": { attributes in
            // Logical shifts of the bits: a uint64 past Int64.max is negative as Int64.
            let unsigned: Set<ElementType> = [.uint8, .uint16, .uint32, .uint64, .uint4, .uint2]
            switch try attributes.string("direction", default: "") {
            case "LEFT": return BinaryFunction(integer: { Int64(bitPattern: UInt64(bitPattern: $0) << UInt64(bitPattern: $1)) }, integerTypes: unsigned)
            case "RIGHT": return BinaryFunction(integer: { Int64(bitPattern: UInt64(bitPattern: $0) >> UInt64(bitPattern: $1)) }, integerTypes: unsigned)
            case let other:
                throw InferenceError.invalidAttribute(node: attributes.node, attribute: "direction", reason: "must be 'LEFT' or 'RIGHT', got '\(other)'")
            }
        },
        "BitwiseAnd": { _ in BinaryFunction(integer: { $0 & $1 }) },
        "BitwiseOr": { _ in BinaryFunction(integer: { $0 | $1 }) },
        "BitwiseXor": { _ in BinaryFunction(integer: { $0 ^ $1 }) },
        "And": { _ in BinaryFunction(bool: { $0 && $1 }) },
        "Or": { _ in BinaryFunction(bool: { $0 || $1 }) },
        "Xor": { _ in BinaryFunction(bool: { $0 != $1 }) },
    ]
}

/// A two-operand function of `BinaryFunction.catalogue` with broadcasting; the result has the operands' type.
struct BinaryElementwise: SingleOutputOperator, ShapeBroadcasting {
    let opType: String
    let function: BinaryFunction
    let broadcasts = ShapeKeyedCache<Broadcasting>()

    init(_ context: OperatorContext) throws {
        opType = context.node.opType
        function = try context.declaration(in: BinaryFunction.catalogue)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let left = try inputs.required(0), right = try inputs.required(1)
        guard left.elementType == right.elementType || (left.elementType.isFloatingPoint && right.elementType.isFloatingPoint) else {
            throw InferenceError.invalidOperand("\(opType): A is \(left.elementType.rawValue) but B is \(right.elementType.rawValue)")
        }
        let broadcasting = try broadcasts.broadcasting(left.shape, right.shape)
        switch (left.storage, right.storage) {
        case (.bool(let a), .bool(let b)):
            if let bool = function.bool { return Tensor(shape: broadcasting.shape, bools: broadcasting.apply(a, b, bool)) }
        case _ where left.elementType.isFloatingPoint:
            // Every float type computes in FP32, so they mix; the result keeps the type only if both share it.
            if let float = function.float {
                let type: ElementType = left.elementType == right.elementType ? left.elementType : .float32
                let values = broadcasting.apply(try left.floatOperand("A"), try right.floatOperand("B"), float)
                return Tensor(shape: broadcasting.shape, floats: values, as: type)
            }
        default:
            if let integer = function.integer, function.integerTypes?.contains(left.elementType) ?? true {
                let values = try broadcasting.apply(left.int64s, right.int64s, integer).map { value in
                    guard let value else { throw InferenceError.invalidOperand("integer \(opType) is undefined here (division by zero)") }
                    return value
                }
                return try Tensor(shape: broadcasting.shape, int64s: values).converted(to: left.elementType)
            }
        }
        throw InferenceError.invalidOperand("\(opType) does not take \(left.elementType.rawValue) operands")
    }
}

/// Max, Min, Sum and Mean of one or more operands, broadcast together: a pairwise operator folded
/// over them in order (Mean divides the sum by the operand count).
struct Variadic: SingleOutputOperator, ShapeBroadcasting {
    let pairwise: any SingleOutputOperator
    let averages: Bool

    init(_ context: OperatorContext) throws {
        switch context.node.opType {
        case "Sum", "Mean": pairwise = ElementwiseArithmetic(kind: .add)
        default: pairwise = try BinaryElementwise(context)
        }
        averages = context.node.opType == "Mean"
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let operands = inputs.compactMap { $0 }
        guard var result = operands.first else { throw InferenceError.invalidOperand("needs at least one operand") }
        for operand in operands.dropFirst() { result = try pairwise.run([result, operand]) }
        guard averages else { return result }
        let count = Float(operands.count)
        return Tensor(shape: result.shape, floats: try result.floatOperand("Mean's operands").map { $0 / count }, as: result.elementType)
    }
}
