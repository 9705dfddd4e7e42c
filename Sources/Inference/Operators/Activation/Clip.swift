/// Clip to [min, max]: attributes before opset 11, optional inputs from opset 11 on.
struct Clip: SingleOutputOperator, ShapePreserving {
    private let attributeBounds: (low: Float, high: Float)?

    init(_ context: OperatorContext) throws {
        attributeBounds = context.opset < 11
            ? (try context.attributes.float("min", default: -.greatestFiniteMagnitude),
               try context.attributes.float("max", default: .greatestFiniteMagnitude))
            : nil
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        if x.elementType.isFloatingPoint {
            let (low, high) = try attributeBounds ?? (Self.bound(inputs.optional(1))?.float(at: 0) ?? -.infinity,
                                                     Self.bound(inputs.optional(2))?.float(at: 0) ?? .infinity)
            // Plain comparisons (NaN passes through both) let the loop vectorise; max then min, so
            // min > max gives max as ONNX specifies.
            let values = x.floats
            let clipped = [Float](recycledCapacity: values.count) { target, initialized in
                values.withUnsafeBufferPointer { source in
                    let (from, to) = (source.baseAddress!, target.baseAddress!)  // plain pointers: the loop vectorises
                    for index in 0..<source.count {
                        let raised = from[index] < low ? low : from[index]
                        to[index] = raised > high ? high : raised
                    }
                }
                initialized = values.count
            }
            return Tensor(shape: x.shape, floats: clipped, as: x.elementType)
        }
        let low = try Self.bound(inputs.optional(1))?.int64(at: 0) ?? .min, high = try Self.bound(inputs.optional(2))?.int64(at: 0) ?? .max
        return try Tensor(shape: x.shape, int64s: x.int64s.map { min(max($0, low), high) }).converted(to: x.elementType)
    }

    private static func bound(_ tensor: Tensor?) throws -> Tensor? {
        guard let tensor else { return nil }
        guard tensor.count == 1 else { throw InferenceError.invalidOperand("min and max must be scalars, got shape \(tensor.shape)") }
        return tensor
    }
}
