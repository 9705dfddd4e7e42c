/// Splits along `axis` into the given sizes (attribute before opset 13, input from 13), else equally
/// into the number of outputs (or `num_outputs`, opset 18, the last part possibly smaller).
struct Split: Operator {
    let axis: Int
    let attributeSizes: [Int]?
    let outputCount: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
        attributeSizes = context.opset < 13 ? try context.attributes.ints("split") : nil
        outputCount = try context.attributes.int("num_outputs") ?? context.node.outputs.count
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let length = x.shape[axis]
        let sizes: [Int]
        if let given = attributeSizes ?? inputs.integers(1) {
            sizes = given
        } else {
            let part = (length + outputCount - 1) / max(outputCount, 1)
            sizes = (0..<outputCount).map { min(part, max(length - $0 * part, 0)) }
        }
        guard sizes.reduce(0, +) == length, sizes.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.invalidOperand("split sizes \(sizes) do not add up to \(length), the size of axis \(axis) of \(x.shape)")
        }
        var start = 0
        for size in sizes {
            outputs.append(Slice.extract(x, starts: [start], ends: [start + size], axes: [axis], steps: [1]))
            start += size
        }
    }
}
