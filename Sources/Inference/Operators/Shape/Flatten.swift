/// Flattens to 2-D: the dimensions before `axis`, then the rest.
struct Flatten: SingleOutputOperator {
    var viewsFirstInput: Bool { true }

    let axis: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 1)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        // axis may equal the rank (everything in the first dimension).
        let axis = axis == x.shape.count ? axis : try normalizedAxis(axis, rank: max(x.shape.count, 1))
        return x.reshaped(to: [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])
    }
}

extension Flatten: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        let axis = axis == x.count ? axis : try normalizedAxis(axis, rank: max(x.count, 1))
        return [[try StaticShapes.product(x[..<axis]), try StaticShapes.product(x[axis...])]]
    }
}
