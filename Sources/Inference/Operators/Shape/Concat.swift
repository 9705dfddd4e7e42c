/// Joins tensors along `axis`; all other dimensions must agree.
struct Concat: SingleOutputOperator {
    let axis: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.requiredInt("axis")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw InferenceError.invalidOperand("Concat needs at least one input") }
        let axis = try normalizedAxis(axis, rank: first.shape.count)
        for part in parts where part.shape.count != first.shape.count
            || part.shape.indices.contains(where: { $0 != axis && part.shape[$0] != first.shape[$0] }) {
            throw InferenceError.invalidOperand("cannot concatenate \(part.shape) with \(first.shape) along axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let blockSizes = parts.map { $0.shape[axis...].reduce(1, *) }
        var shape = first.shape
        shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        return Tensor(shape: shape, storage: try TensorStorage.interleaved(parts.map(\.storage), blocks: outer, blockSizes: blockSizes))
    }
}

extension Concat: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        var parts: [StaticShape] = []
        for input in inputs {
            guard let input else { return [] }
            parts.append(input)
        }
        guard let first = parts.first else { return [] }
        let axis = try normalizedAxis(axis, rank: first.count)
        return [try first.indices.map { dimension -> Int? in
            let sizes = try parts.map { part -> Int? in
                guard part.count == first.count else {
                    throw InferenceError.invalidOperand("cannot concatenate \(StaticShapes.describe(part)) with \(StaticShapes.describe(first))")
                }
                return part[dimension]
            }
            if dimension == axis { return sizes.reduce(0 as Int?) { total, size in total.flatMap { total in size.map { total + $0 } } } }
            let known = Set(sizes.compactMap { $0 })
            guard known.count <= 1 else {
                throw InferenceError.invalidOperand(
                    "cannot concatenate \(parts.map(StaticShapes.describe).joined(separator: ", ")) along axis \(axis): dimension \(dimension) differs")
            }
            return known.first
        }]
    }
}
