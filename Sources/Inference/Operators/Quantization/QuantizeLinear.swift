import CQuantKernels

/// y = saturate(round_half_even(x / scale) + zero_point) to an 8, 16, 4 or 2-bit integer type, or
/// x / scale + zero_point rounded into a float8 or float4 type (saturating unless `saturate` is 0),
/// per tensor, per axis or per block. The output type is the zero point's, else the `output_dtype`
/// attribute's, else uint8.
struct QuantizeLinear: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let blockSize: Int
    let declaredOutputType: ElementType?
    let saturates: Bool

    init(_ context: OperatorContext) throws {
        (axis, blockSize) = try QuantizationParameterLayout.attributes(of: context)
        saturates = try context.attributes.int("saturate", default: 1) != 0
        let code = try context.attributes.int("output_dtype", default: 0)
        if code == 0 {
            declaredOutputType = nil
        } else {
            guard let type = ElementType(onnxDataType: Int32(truncatingIfNeeded: code)), Self.levels[type] != nil || type.smallFloatFormat != nil else {
                throw InferenceError.invalidAttribute(node: context.node.name, attribute: "output_dtype",
                                                      reason: "names ONNX data type \(code), which is not a quantized type")
            }
            declaredOutputType = type
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), scale = try inputs.required(1)
        let values = try x.floatOperand("x"), scales = try scale.floatOperand("y_scale")
        let zeroPoint = inputs.optional(2)
        let outputType = zeroPoint?.elementType ?? declaredOutputType ?? .uint8
        let range = Self.levels[outputType]
        guard range != nil || outputType.smallFloatFormat != nil else {
            throw InferenceError.invalidOperand("y_zero_point must be of a quantized type (8, 16, 4 or 2-bit integer, float8 or float4), got \(outputType.rawValue)")
        }
        if let zeroPoint, zeroPoint.shape != scale.shape, !(zeroPoint.count == 1 && scale.count == 1) {
            throw InferenceError.invalidOperand("y_zero_point shape \(zeroPoint.shape) differs from y_scale shape \(scale.shape)")
        }
        if scales.count == 1, outputType == .int8 || outputType == .uint8 {
            return Self.perTensor(values, shape: x.shape, scale: scales[0], zeroPoint: Int(zeroPoint?.int64(at: 0) ?? 0), type: outputType)
        }
        let zeroPoints = zeroPoint?.floats ?? Array(repeating: 0, count: scales.count)
        let layout = try QuantizationParameterLayout(shape: x.shape, parameterShape: scale.shape, axis: axis, blockSize: blockSize)
        guard let range else {
            // A float8 or float4 output: no integer levels, the format's own rounding.
            let scaled = values.indices.map { values[$0] / scales[layout.parameterIndex(of: $0)] + zeroPoints[layout.parameterIndex(of: $0)] }
            return try Tensor(shape: x.shape, storage: TensorStorage.float32(scaled).converted(to: outputType, saturating: saturates))
        }
        let levels = values.indices.map { index in
            let parameter = layout.parameterIndex(of: index)
            let level = (values[index] / scales[parameter]).rounded(.toNearestOrEven) + zeroPoints[parameter]
            // NaN has no level; like DynamicQuantizeLinear it maps to the zero point.
            return level.isNaN ? zeroPoints[parameter] : min(max(level, range.lowerBound), range.upperBound)
        }
        return try Tensor(shape: x.shape, floats: levels).converted(to: outputType)
    }

    /// The levels each output type holds.
    private static let levels: [ElementType: ClosedRange<Float>] = [
        .int8: -128...127, .uint8: 0...255, .int16: -32768...32767, .uint16: 0...65535, .int4: -8...7, .uint4: 0...15, .int2: -2...1, .uint2: 0...3,
    ]

    /// One scale for the whole tensor: the C kernel's quantizer (same rounding, NaN to the zero
    /// point). int8 is uint8 shifted by 128 in zero point and result alike.
    static func perTensor(_ values: [Float], shape: [Int], scale: Float, zeroPoint: Int, type: ElementType) -> Tensor {
        let shift = type == .int8 ? 128 : 0
        let levels = [UInt8](recycledCapacity: values.count) { output, initialized in
            qf_quantize_u8(values, values.count, scale, UInt8(zeroPoint + shift), output.baseAddress)
            initialized = values.count
        }
        return type == .int8 ? Tensor(shape: shape, int8s: levels.map { Int8(Int16($0) - 128) }) : Tensor(shape: shape, uint8s: levels)
    }
}
