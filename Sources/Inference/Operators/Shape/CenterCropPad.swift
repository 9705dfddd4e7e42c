/// CenterCropPad: each listed axis cropped or zero-padded to the requested size around its centre
/// (the odd element goes to the end when cropping and padding alike).
struct CenterCropPad: SingleOutputOperator {
    let axes: [Int]?

    init(_ context: OperatorContext) throws {
        axes = try context.attributes.ints("axes")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), sizes = try inputs.required(1).int64s.map { Int($0) }
        let axes = try normalizedAxes(self.axes ?? Array(0..<x.shape.count), rank: x.shape.count)
        guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.invalidOperand("shape \(sizes) must give a non-negative size for each of the axes \(axes)")
        }
        var shape = x.shape, shift = [Int](repeating: 0, count: x.shape.count)
        for (axis, size) in zip(axes, sizes) {
            shift[axis] = size < x.shape[axis] ? (x.shape[axis] - size) / 2 : -((size - x.shape[axis]) / 2)
            shape[axis] = size
        }
        let strides = x.strides
        var positions: [Int] = []
        positions.reserveCapacity(shape.reduce(1, *))
        forEachIndex(of: shape) { index in
            var offset = 0
            for axis in index.indices {
                let source = index[axis] + shift[axis]
                guard (0..<x.shape[axis]).contains(source) else {
                    positions.append(x.count)
                    return
                }
                offset += source * strides[axis]
            }
            positions.append(offset)
        }
        return Tensor(shape: shape, storage: try x.joined(with: x.scalar(0)).gathered(positions))
    }
}
