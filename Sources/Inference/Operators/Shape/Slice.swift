/// Slice: starts/ends/axes as attributes before opset 10, as inputs (with steps) from 10 on.
struct Slice: SingleOutputOperator {
    private let attributeRanges: (starts: [Int], ends: [Int], axes: [Int]?)?

    init(_ context: OperatorContext) throws {
        if context.opset < 10 {
            guard let starts = try context.attributes.ints("starts"), let ends = try context.attributes.ints("ends") else {
                throw InferenceError.invalidAttribute(node: context.node.name, attribute: "starts", reason: "and 'ends' are required")
            }
            attributeRanges = (starts, ends, try context.attributes.ints("axes"))
        } else {
            attributeRanges = nil
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let starts = try attributeRanges?.starts ?? inputs.required(1).int64s.map { Int(clamping: $0) }
        let ends = try attributeRanges?.ends ?? inputs.required(2).int64s.map { Int(clamping: $0) }
        let requestedAxes = attributeRanges.map { $0.axes } ?? inputs.integers(3)
        let axes = try normalizedAxes(requestedAxes ?? Array(0..<starts.count), rank: x.shape.count)
        let steps = (attributeRanges == nil ? inputs.integers(4) : nil) ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw InferenceError.invalidOperand("starts, ends, axes and steps differ in length")
        }
        guard !steps.contains(0) else { throw InferenceError.invalidOperand("steps must not be 0") }
        return Self.extract(x, starts: starts, ends: ends, axes: axes, steps: steps)
    }

    /// Numpy-style slicing with ONNX's clamping of out-of-range starts and ends; axes are normalized.
    static func extract(_ x: Tensor, starts: [Int], ends: [Int], axes: [Int], steps: [Int]) -> Tensor {
        var shape = x.shape
        var sourceStrides = x.strides
        var offset = 0
        for (index, axis) in axes.enumerated() {
            let length = x.shape[axis], step = steps[index]
            func resolve(_ value: Int) -> Int { value < 0 ? value + length : value }
            let start: Int, end: Int
            if step > 0 {
                start = min(max(resolve(starts[index]), 0), length)
                end = min(max(resolve(ends[index]), 0), length)
            } else {
                start = min(max(resolve(starts[index]), 0), length - 1)
                end = min(max(resolve(ends[index]), -1), length - 1)
            }
            let count = step > 0 ? max(0, (end - start + step - 1) / step) : max(0, (start - end - step - 1) / -step)
            shape[axis] = count
            offset += count > 0 ? start * x.strides[axis] : 0
            sourceStrides[axis] = x.strides[axis] * step
        }
        return Tensor(shape: shape, storage: x.storage.strided(shape: shape, sourceStrides: sourceStrides, offset: offset))
    }
}
