extension InferenceSession {
    /// The model's inputs taken by name from `arrays` (an .npz file's contents); arrays the model
    /// does not take are ignored, a missing input is an error naming it.
    public func feeds(from arrays: [String: Tensor]) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for input in inputs {
            guard let array = arrays[input.name] else {
                throw InferenceError.missingArray(input: input.name, available: arrays.keys.sorted())
            }
            feeds[input.name] = array
        }
        return feeds
    }

    /// How many nodes of each operator type the planned graph runs (folded Constants excluded).
    public var operatorCounts: [String: Int] {
        Dictionary(plan.steps.map { ($0.opType, 1) }, uniquingKeysWith: +)
    }
}

extension Tensor {
    /// The first `count` entries along the leading (batch) axis.
    /// - Throws: `InferenceError.invalidOperand` when the tensor is a scalar or holds fewer rows.
    public func leadingRows(_ count: Int) throws -> Tensor {
        guard let rows = shape.first, rows >= count, count >= 0 else {
            throw InferenceError.invalidOperand("cannot take \(count) rows of a tensor shaped \(shape)")
        }
        let rowSize = shape.dropFirst().reduce(1, *)
        return gathered(Array(0..<(count * rowSize)), shape: [count] + shape.dropFirst())
    }
}

extension InferenceSession {
    /// Each graph output's shape as the operators' shape rules work it out at load from the declared
    /// input shapes: nil for a dimension known only at run, and no entry where the rank is unknown
    /// (an operator whose output shape depends on values, such as NonZero or a Reshape to a computed shape).
    public var staticOutputShapes: [String: [Int?]] {
        var shapes: [String: [Int?]] = [:]
        for (name, slot) in plan.outputSlots {
            if let shape = plan.staticShapes[slot] { shapes[name] = shape }
        }
        return shapes
    }
}
