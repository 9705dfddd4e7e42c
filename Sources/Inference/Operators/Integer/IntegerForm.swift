/// Which of the three forms of an integer operator a node is, and where its operands sit: the
/// integer form (MatMulInteger, ConvInteger: A, B, a_zero, b_zero), the quantized form (QLinearMatMul,
/// QLinearConv: a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero[, int32 bias]) and the
/// to-float form (MatMulIntegerToFloat, ConvIntegerToFloat: A, B, a_scale, b_scale, a_zero, b_zero[,
/// float bias][, int32 bias added to the accumulators, ConvIntegerToFloat only][, y_scale, uint8
/// y_zero: the float result quantized again, ConvIntegerToQuantized only]). Matrix products and
/// convolutions place their operands alike.
enum IntegerForm {
    case integer, quantized, toFloat

    struct Slots {
        let a: Int, aScale: Int?, aZero: Int
        let b: Int, bScale: Int?, bZero: Int
        let yScale: Int?, yZero: Int?, bias: Int?
        let accumulatorBias: Int?
    }

    var slots: Slots {
        switch self {
        case .integer: Slots(a: 0, aScale: nil, aZero: 2, b: 1, bScale: nil, bZero: 3, yScale: nil, yZero: nil, bias: nil, accumulatorBias: nil)
        case .quantized: Slots(a: 0, aScale: 1, aZero: 2, b: 3, bScale: 4, bZero: 5, yScale: 6, yZero: 7, bias: 8, accumulatorBias: nil)
        case .toFloat: Slots(a: 0, aScale: 2, aZero: 4, b: 1, bScale: 3, bZero: 5, yScale: 8, yZero: 9, bias: 6, accumulatorBias: 7)
        }
    }

    /// What the node's scale, zero-point and bias operands make of the int32 accumulators, with one
    /// weight scale (and bias) per output column.
    func result(_ inputs: [Tensor?], columns: Int) throws -> IntegerResult {
        guard self != .integer else { return .int32 }
        let slots = self.slots
        let aScale = try IntegerOperands.scalarScale(try inputs.required(slots.aScale!), role: "the activation scale")
        let bScales = try IntegerOperands.columnScales(try inputs.required(slots.bScale!), columns: columns, role: "the weight scale")
        let bias = inputs.optional(slots.bias!)
        if let bias, bias.count != columns {
            throw InferenceError.invalidOperand("the bias must hold \(columns) values, got \(bias.shape)")
        }
        if self == .toFloat {
            let scaling = IntegerResult.Scaling(
                scales: bScales.map { $0 * aScale }, bias: try bias.map { try $0.floatOperand("bias") },
                accumulatorBias: try inputs.optional(slots.accumulatorBias!).map { try Self.accumulatorBias($0, columns: columns) })
            guard let yScale = inputs.optional(slots.yScale!) else { return .float(scaling) }
            let yZero = try inputs.required(slots.yZero!)
            guard yZero.elementType == .uint8, yZero.count == 1 else {
                throw InferenceError.invalidOperand("y_zero_point must be one uint8, got \(yZero.elementType.rawValue) \(yZero.shape)")
            }
            return .quantizedFloat(scaling, yScale: try IntegerOperands.scalarScale(yScale, role: "y_scale"), yZero: UInt8(yZero.int64(at: 0)))
        }
        let yScale = try IntegerOperands.scalarScale(try inputs.required(slots.yScale!), role: "y_scale")
        let yZero = try inputs.required(slots.yZero!)
        guard yZero.elementType == .int8 || yZero.elementType == .uint8, yZero.count == 1 else {
            throw InferenceError.invalidOperand("y_zero_point must be one int8 or uint8, got \(yZero.elementType.rawValue) \(yZero.shape)")
        }
        guard bias.map({ $0.elementType == .int32 }) ?? true else { throw InferenceError.invalidOperand("the bias must be int32") }
        return .requantized(multipliers: bScales.map { aScale * $0 / yScale }, bias: bias.map { $0.int64s.map { Int32($0) } },
                            zero: Int32(yZero.int64(at: 0)), type: yZero.elementType)
    }

    /// One int32 per column from a per-tensor or per-column int32 bias.
    private static func accumulatorBias(_ tensor: Tensor, columns: Int) throws -> [Int32] {
        guard case .int32(let values) = tensor.storage, values.count == 1 || values.count == columns else {
            throw InferenceError.invalidOperand("the accumulator bias must be int32 with 1 or \(columns) values, got \(tensor.elementType.rawValue) \(tensor.shape)")
        }
        return values.count == columns ? values : Array(repeating: values[0], count: columns)
    }
}
