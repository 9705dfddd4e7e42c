/// MaxUnpool: MaxPool undone. Zeros of the unpooled shape, with each pooled value written at the flat
/// position its index names; a larger output_shape pads that with zeros at the end of each axis (as
/// onnx's reference does: the indices address the unpooled shape).
struct MaxUnpool: SingleOutputOperator {
    let kernel: [Int]
    let strides: [Int]?
    let pads: [Int]?

    init(_ context: OperatorContext) throws {
        kernel = try context.attributes.ints("kernel_shape") ?? []
        guard !kernel.isEmpty else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "kernel_shape", reason: "is required") }
        strides = try context.attributes.ints("strides")
        pads = try context.attributes.ints("pads")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), indices = try inputs.required(1).int64s
        let spatial = x.shape.count - 2
        guard spatial == kernel.count, indices.count == x.count else {
            throw InferenceError.invalidOperand("X \(x.shape), \(indices.count) indices and kernel \(kernel) do not match")
        }
        let unpooled = Array(x.shape.prefix(2)) + (0..<spatial).map { axis in
            let stride = strides?[axis] ?? 1, padding = (pads?[axis] ?? 0) + (pads?[axis + spatial] ?? 0)
            return (x.shape[axis + 2] - 1) * stride + kernel[axis] - padding
        }
        let count = unpooled.reduce(1, *)
        var positions = [Int](repeating: x.count, count: count)
        for (element, index) in indices.enumerated() {
            guard (0..<Int64(count)).contains(index) else { throw InferenceError.invalidOperand("index \(index) is outside the output of \(count) elements") }
            positions[Int(index)] = element
        }
        let source = try x.joined(with: x.scalar(0))
        guard let shape = inputs.optional(2).map({ $0.int64s.map { Int($0) } }), shape != unpooled else {
            return Tensor(shape: unpooled, storage: source.gathered(positions))
        }
        guard shape.count == unpooled.count, zip(shape, unpooled).allSatisfy(>=) else {
            throw InferenceError.invalidOperand("output_shape \(shape) is smaller than the unpooled shape \(unpooled)")
        }
        let unpooledStrides = rowMajorStrides(unpooled)
        var padded: [Int] = []
        padded.reserveCapacity(shape.reduce(1, *))
        forEachIndex(of: shape) { index in
            padded.append(zip(index, unpooled).allSatisfy(<) ? positions[position(of: index, strides: unpooledStrides)] : x.count)
        }
        return Tensor(shape: shape, storage: source.gathered(padded))
    }
}
