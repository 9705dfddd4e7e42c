/// max(x, 0), keeping the element type (FP16 stays FP16; integer types from opset 14).
struct Relu: SingleOutputOperator, ShapePreserving {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.elementType.isFloatingPoint else {
            return try Tensor(shape: x.shape, int64s: x.int64s.map { max($0, 0) }).converted(to: x.elementType)
        }
        let values = x.floats
        let rectified = [Float](recycledCapacity: values.count) { target, initialized in
            values.withUnsafeBufferPointer { source in
                // Plain pointers and a plain comparison (NaN passes through) let the loop vectorise: 5x
                // faster than `map { max($0, 0) }` on the MLP's hidden layers.
                let (from, to) = (source.baseAddress!, target.baseAddress!)
                for index in 0..<source.count { to[index] = from[index] < 0 ? 0 : from[index] }
            }
            initialized = values.count
        }
        return Tensor(shape: x.shape, floats: rectified, as: x.elementType)
    }
}
