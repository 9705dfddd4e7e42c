import CQuantKernels

/// Float -> uint8 with a per-tensor scale and zero point computed from the data at run time,
/// exactly as ONNX specifies and onnxruntime computes it: the range always includes 0,
/// rounding is half to even, and x is divided (not multiplied) by the scale.
struct DynamicQuantizeLinear: Operator {
    struct Parameters: Equatable {
        let scale: Float
        let zeroPoint: UInt8
    }

    static func parameters(for values: [Float]) -> Parameters {
        var low: Float = 0, high: Float = 0
        qf_range_f32(values, values.count, &low, &high)
        let scale = high == low ? 1 : (high - low) / 255
        let zeroPoint = (0 - low / scale).clamped(0, 255).rounded(.toNearestOrEven)
        return Parameters(scale: scale, zeroPoint: UInt8(zeroPoint))
    }

    /// NaN has no quantized value; it maps to the zero point (the value 0) rather than trapping.
    static func quantize(_ values: [Float], with parameters: Parameters) -> [UInt8] {
        [UInt8](recycledCapacity: values.count) { output, initialized in
            qf_quantize_u8(values, values.count, parameters.scale, parameters.zeroPoint, output.baseAddress)
            initialized = values.count
        }
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        let values = try x.floatOperand("x")
        let parameters = Self.parameters(for: values)
        outputs.append(Tensor(shape: x.shape, uint8s: Self.quantize(values, with: parameters)))
        // One value each: a plain array costs less than asking the run's arena for a buffer.
        outputs.append(Tensor(shape: [], floats: [parameters.scale]))
        outputs.append(Tensor(shape: [], uint8s: [parameters.zeroPoint]))
    }
}

private extension Float {
    func clamped(_ low: Float, _ high: Float) -> Float { Swift.min(Swift.max(self, low), high) }
}

extension DynamicQuantizeLinear: ShapeRule {
    /// y like x, then the scalar scale and zero point.
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] { [inputs.first ?? nil, [], []] }
}
