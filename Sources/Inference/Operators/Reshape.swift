/// Reshape with ONNX's 0 (copy the input dimension, unless `allowzero`) and -1 (infer) entries.
struct Reshape: SingleOutputOperator {
    var viewsFirstInput: Bool { true }

    let allowsZero: Bool

    init(_ context: OperatorContext) throws {
        allowsZero = try context.attributes.int("allowzero", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0), requested = try inputs.required(1).int64s
        var shape = try requested.enumerated().map { axis, size -> Int in
            if size == 0 && !allowsZero {
                guard axis < data.shape.count else {
                    throw InferenceError.invalidOperand("shape \(requested) copies dimension \(axis) of \(data.shape), which does not exist")
                }
                return data.shape[axis]
            }
            guard size >= -1 else { throw InferenceError.invalidOperand("shape \(requested) has a negative size") }
            return Int(size)
        }
        let inferred = shape.firstIndex(of: -1)
        guard shape.lastIndex(of: -1) == inferred else { throw InferenceError.invalidOperand("shape \(requested) has more than one -1") }
        let known = shape.reduce(1) { $1 == -1 ? $0 : $0 * $1 }
        if let axis = inferred {
            guard known > 0, data.count % known == 0 else {
                throw InferenceError.invalidOperand("cannot reshape \(data.shape) to \(requested)")
            }
            shape[axis] = data.count / known
        }
        guard shape.reduce(1, *) == data.count else {
            throw InferenceError.invalidOperand("cannot reshape \(data.shape) to \(requested)")
        }
        return data.reshaped(to: shape)
    }
}
