/// The operands of onnxruntime's QLinear operators (com.microsoft): uint8 or int8 levels with a
/// per-tensor float scale and a zero point of the levels' type, 0 when omitted.
enum QLinearOperands {
    /// A tensor's levels widened to Int32, refusing anything but uint8 and int8.
    static func levels(_ tensor: Tensor, role: String) throws -> [Int32] {
        switch tensor.storage {
        case .uint8(let values): return values.map { Int32($0) }
        case .int8(let values): return values.map { Int32($0) }
        default: throw InferenceError.invalidOperand("\(role) must be uint8 or int8, got \(tensor.elementType.rawValue)")
        }
    }

    /// The scale at input `scale` (one float) and the zero point at input `zeroPoint` (one value of
    /// `type`, or 0 when the input is omitted).
    static func parameters(_ inputs: [Tensor?], scale: Int, zeroPoint: Int, type: ElementType, role: String) throws -> (scale: Float, zero: Int32) {
        let step = try IntegerOperands.scalarScale(try inputs.required(scale), role: "\(role)'s scale")
        guard let zero = inputs.optional(zeroPoint) else { return (step, 0) }
        guard zero.elementType == type, zero.count == 1 else {
            throw InferenceError.invalidOperand("\(role)'s zero point must be one \(type.rawValue), got \(zero.elementType.rawValue) \(zero.shape)")
        }
        return (step, Int32(zero.int64(at: 0)))
    }

    /// The levels `type` holds.
    static func range(of type: ElementType) -> ClosedRange<Float> {
        type == .int8 ? -128...127 : 0...255
    }

    /// `value` rounded half to even and saturated to `range`, as onnxruntime's SIMD conversion and
    /// saturating packs do; NaN (a zero scale) converts to the integer indefinite, so the lowest level.
    @inline(__always)
    static func saturated(_ value: Float, to range: ClosedRange<Float>) -> Int32 {
        value.isNaN ? Int32(range.lowerBound) : Int32(min(max(value.rounded(.toNearestOrEven), range.lowerBound), range.upperBound))
    }

    /// Levels already inside `type`'s range as a tensor of that type.
    static func tensor(shape: [Int], levels: [Int32], type: ElementType) -> Tensor {
        type == .int8 ? Tensor(shape: shape, int8s: levels.map { Int8($0) }) : Tensor(shape: shape, uint8s: levels.map { UInt8($0) })
    }

    /// Index `level` (0...255) of a 256-entry table, read as the raw byte of a uint8 or int8 level.
    static func byte(of level: Int32) -> Int { Int(UInt8(truncatingIfNeeded: level)) }
}
