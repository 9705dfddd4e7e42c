/// Hardmax: 1 at the first largest element along an axis (opset 13), or over the dimensions from
/// `axis` on, flattened (opset 1-12); 0 elsewhere.
struct Hardmax: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let flattensTrailingDimensions: Bool

    init(_ context: OperatorContext) throws {
        flattensTrailingDimensions = context.opset < 13
        axis = try context.attributes.int("axis", default: flattensTrailingDimensions ? 1 : -1)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), values = try x.floatOperand("input")
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let length = flattensTrailingDimensions ? x.shape[axis...].reduce(1, *) : x.shape[axis]
        let inner = flattensTrailingDimensions ? 1 : x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape[..<axis].reduce(1, *)
        var output = [Float](repeating: 0, count: values.count)
        for block in 0..<outer where length > 0 {
            for offset in 0..<inner {
                let base = block * length * inner + offset
                var best = base
                for step in 1..<length where values[base + step * inner] > values[best] { best = base + step * inner }
                output[best] = 1
            }
        }
        return Tensor(shape: x.shape, floats: output, as: x.elementType)
    }
}
