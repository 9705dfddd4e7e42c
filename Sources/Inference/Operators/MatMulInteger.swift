/// MatMulInteger with uint8 A [..., M, K] and int8 B [K, N] (per-tensor or per-column zero
/// points) -> int32, on the C kernels. A constant B is packed once at load.
struct MatMulInteger: Operator {
    private let constantWeights: PackedInt8Weights?

    init(_ context: OperatorContext) throws {
        if let b = context.constantInput(1) {
            constantWeights = try Self.pack(b)
        } else {
            constantWeights = nil
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0)
        guard case .uint8(let activations) = a.storage else {
            throw InferenceError.invalidOperand("A must be uint8, got \(a.elementType.rawValue)")
        }
        let weights = try constantWeights ?? Self.pack(try inputs.required(1))
        let (rows, _, columns) = try matrixDimensions(a.shape, [weights.depth, weights.columns])
        let aZero = try inputs.optional(2).map(Self.activationZeroPoint) ?? 0
        let bZero = try inputs.optional(3).map { try Self.weightZeroPoints($0, columns: columns) }
        let product = weights.multiply(activations, rows: rows, aZero: aZero, bZero: bZero)
        return [Tensor(shape: a.shape.dropLast() + [columns], int32s: product)]
    }

    private static func pack(_ b: Tensor) throws -> PackedInt8Weights {
        guard case .int8(let values) = b.storage else {
            throw InferenceError.invalidOperand("B must be int8, got \(b.elementType.rawValue)")
        }
        guard b.shape.count == 2 else { throw InferenceError.invalidOperand("B must be 2-D, got \(b.shape)") }
        return PackedInt8Weights(rowMajor: values, depth: b.shape[0], columns: b.shape[1])
    }

    private static func activationZeroPoint(_ tensor: Tensor) throws -> UInt8 {
        guard case .uint8(let values) = tensor.storage, values.count == 1 else {
            throw InferenceError.invalidOperand("a_zero_point must be one uint8, got \(tensor.elementType.rawValue) \(tensor.shape)")
        }
        return values[0]
    }

    private static func weightZeroPoints(_ tensor: Tensor, columns: Int) throws -> [Int8] {
        guard case .int8(let values) = tensor.storage, values.count == 1 || values.count == columns else {
            throw InferenceError.invalidOperand(
                "b_zero_point must be int8 with 1 or \(columns) values, got \(tensor.elementType.rawValue) \(tensor.shape)")
        }
        return values.count == columns ? values : Array(repeating: values[0], count: columns)
    }
}
