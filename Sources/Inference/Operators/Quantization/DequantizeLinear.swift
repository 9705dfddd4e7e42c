/// y = (x - zero_point) * scale for x of any integer type (but 64-bit and bool) or float8/float4 type,
/// per tensor, per axis or per block. The result has the scale's type.
struct DequantizeLinear: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let blockSize: Int

    init(_ context: OperatorContext) throws {
        (axis, blockSize) = try QuantizationParameterLayout.attributes(of: context)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), scale = try inputs.required(1)
        guard Self.quantizedTypes.contains(x.elementType) || x.elementType.smallFloatFormat != nil else {
            throw InferenceError.invalidOperand("x must be a quantized type (8, 16, 32, 4 or 2-bit integer, float8 or float4), got \(x.elementType.rawValue)")
        }
        let scales = try scale.floatOperand("x_scale")
        let zeroPoints: [Float]
        if let zeroPoint = inputs.optional(2) {
            guard zeroPoint.elementType == x.elementType, zeroPoint.shape == scale.shape || (zeroPoint.count == 1 && scale.count == 1) else {
                throw InferenceError.invalidOperand(
                    "x_zero_point must be \(x.elementType.rawValue) shaped like x_scale \(scale.shape), got \(zeroPoint.elementType.rawValue) \(zeroPoint.shape)")
            }
            zeroPoints = zeroPoint.floats
        } else {
            zeroPoints = Array(repeating: 0, count: scales.count)
        }
        if scales.count == 1 {
            // Per tensor (an activation between QDQ nodes): one scale and zero point, a loop that vectorises.
            let (step, zero) = (scales[0], zeroPoints[0])
            let values: [Float] = switch x.storage {
            case .uint8(let levels): Self.dequantized(levels, zero: zero, step: step)
            case .int8(let levels): Self.dequantized(levels, zero: zero, step: step)
            default: x.floats.map { ($0 - zero) * step }
            }
            return try Tensor(shape: x.shape, floats: values).converted(to: scale.elementType)
        }
        let layout = try QuantizationParameterLayout(shape: x.shape, parameterShape: scale.shape, axis: axis, blockSize: blockSize)
        let quantized = x.floats
        let values = quantized.indices.map { index in
            let parameter = layout.parameterIndex(of: index)
            return (quantized[index] - zeroPoints[parameter]) * scales[parameter]
        }
        return try Tensor(shape: x.shape, floats: values).converted(to: scale.elementType)
    }

    private static let quantizedTypes: Set<ElementType> = [.int8, .uint8, .int16, .uint16, .int32, .int4, .uint4, .int2, .uint2]

    /// (level - zero) x step over plain pointers, so the loop vectorises (`map` did not: 2x slower).
    private static func dequantized<Level: BinaryInteger>(_ levels: [Level], zero: Float, step: Float) -> [Float] {
        [Float](recycledCapacity: levels.count) { target, initialized in
            levels.withUnsafeBufferPointer { source in
                let (from, to) = (source.baseAddress!, target.baseAddress!)
                for index in 0..<source.count { to[index] = (Float(from[index]) - zero) * step }
            }
            initialized = levels.count
        }
    }
}
