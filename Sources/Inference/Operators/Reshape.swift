/// Reshape with ONNX's 0 (copy the input dimension, unless `allowzero`) and -1 (infer) entries.
struct Reshape: SingleOutputOperator, ShapeRule {
    var viewsFirstInput: Bool { true }

    let allowsZero: Bool
    /// The requested shape when it is a constant: the shape rule's only way to know it at load.
    let constantShape: [Int64]?

    init(_ context: OperatorContext) throws {
        allowsZero = try context.attributes.int("allowzero", default: 0) != 0
        constantShape = context.constantInput(1)?.int64s
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0)
        let shape = try target(of: try inputs.required(1).int64s, from: data.shape.map(Optional.some))
        return data.reshaped(to: shape.map { $0! })
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let data = inputs.first ?? nil, let constantShape else { return [] }
        return [try target(of: constantShape, from: data)]
    }

    /// The shape `requested` gives `data`: every dimension known when all of `data`'s are.
    private func target(of requested: [Int64], from data: StaticShape) throws -> StaticShape {
        var shape = try requested.enumerated().map { axis, size -> Int? in
            if size == 0 && !allowsZero {
                guard axis < data.count else {
                    throw InferenceError.invalidOperand("shape \(requested) copies dimension \(axis) of \(StaticShapes.describe(data)), which does not exist")
                }
                return data[axis]
            }
            guard size >= -1 else { throw InferenceError.invalidOperand("shape \(requested) has a negative size") }
            return Int(size)
        }
        let inferred = shape.firstIndex(of: -1)
        guard shape.lastIndex(of: -1) == inferred else { throw InferenceError.invalidOperand("shape \(requested) has more than one -1") }
        let count = try StaticShapes.product(data)
        let others = try StaticShapes.product(shape.indices.lazy.filter { $0 != inferred }.map { shape[$0] })
        guard let count, let others else {
            if let inferred { shape[inferred] = nil }
            return shape
        }
        if let inferred {
            guard others > 0, count % others == 0 else { throw InferenceError.invalidOperand("cannot reshape \(StaticShapes.describe(data)) to \(requested)") }
            shape[inferred] = count / others
        } else if others != count {
            throw InferenceError.invalidOperand("cannot reshape \(StaticShapes.describe(data)) to \(requested)")
        }
        return shape
    }
}
