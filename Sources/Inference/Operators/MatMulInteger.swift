/// MatMulInteger: A [..., M, K] by B [K, N] -> int32, each operand int8 or uint8, with per-tensor
/// (A) and per-tensor or per-column (B) zero points, on the C kernels (uint8 A x int8 B).
/// The other signedness is shifted by 128 in value and zero point alike, which leaves every
/// difference (x - zero) and so the product unchanged. A constant B is packed once at load.
struct MatMulInteger: Operator {
    /// Packed int8 weights, remembering whether they were uint8 shifted down by 128.
    private struct Weights {
        let packed: PackedInt8Weights
        let shiftedFromUnsigned: Bool
    }

    private let constantWeights: Weights?

    init(_ context: OperatorContext) throws {
        constantWeights = try context.constantInput(1).map(Self.pack)
    }

    var preparedBytes: Int { constantWeights?.packed.residentBytes ?? 0 }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0)
        let activations: [UInt8]
        switch a.storage {
        case .uint8(let values): activations = values
        case .int8(let values): activations = values.map { UInt8(Int16($0) + 128) }
        default: throw InferenceError.invalidOperand("A must be uint8 or int8, got \(a.elementType.rawValue)")
        }
        let weights = try constantWeights ?? Self.pack(try inputs.required(1))
        let (rows, _, columns) = try matrixDimensions(a.shape, [weights.packed.depth, weights.packed.columns])
        let aZero = try inputs.optional(2).map { try Self.activationZeroPoint($0, type: a.elementType) } ?? (a.elementType == .int8 ? 128 : 0)
        let bZero = try inputs.optional(3).map { try Self.weightZeroPoints($0, columns: columns, shifted: weights.shiftedFromUnsigned) }
            ?? (weights.shiftedFromUnsigned ? Array(repeating: -128, count: columns) : nil)
        let product = weights.packed.multiply(activations, rows: rows, aZero: aZero, bZero: bZero)
        return [Tensor(shape: a.shape.dropLast() + [columns], int32s: product)]
    }

    private static func pack(_ b: Tensor) throws -> Weights {
        guard b.shape.count == 2 else { throw InferenceError.invalidOperand("B must be 2-D, got \(b.shape)") }
        switch b.storage {
        case .int8(let values):
            return Weights(packed: PackedInt8Weights(rowMajor: values, depth: b.shape[0], columns: b.shape[1]), shiftedFromUnsigned: false)
        case .uint8(let values):
            let shifted = values.map { Int8(Int16($0) - 128) }
            return Weights(packed: PackedInt8Weights(rowMajor: shifted, depth: b.shape[0], columns: b.shape[1]), shiftedFromUnsigned: true)
        default:
            throw InferenceError.invalidOperand("B must be int8 or uint8, got \(b.elementType.rawValue)")
        }
    }

    private static func activationZeroPoint(_ tensor: Tensor, type: ElementType) throws -> UInt8 {
        guard tensor.elementType == type, tensor.count == 1 else {
            throw InferenceError.invalidOperand("a_zero_point must be one \(type.rawValue), got \(tensor.elementType.rawValue) \(tensor.shape)")
        }
        return UInt8(tensor.int64s[0] + (type == .int8 ? 128 : 0))
    }

    private static func weightZeroPoints(_ tensor: Tensor, columns: Int, shifted: Bool) throws -> [Int8] {
        let expected: ElementType = shifted ? .uint8 : .int8
        guard tensor.elementType == expected, tensor.count == 1 || tensor.count == columns else {
            throw InferenceError.invalidOperand(
                "b_zero_point must be \(expected.rawValue) with 1 or \(columns) values, got \(tensor.elementType.rawValue) \(tensor.shape)")
        }
        let values = tensor.int64s.map { Int8($0 - (shifted ? 128 : 0)) }
        return values.count == columns ? values : Array(repeating: values[0], count: columns)
    }
}
