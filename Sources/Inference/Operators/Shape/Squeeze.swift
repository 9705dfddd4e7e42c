/// Removes size-1 axes: the listed ones (attribute before opset 13, input from 13), or all of them.
struct Squeeze: SingleOutputOperator {
    var viewsFirstInput: Bool { true }

    let attributeAxes: [Int]??
    let axesKnownAtLoad: [Int]??

    init(_ context: OperatorContext) throws {
        attributeAxes = try context.axesAttribute(inputFromOpset: 13)
        axesKnownAtLoad = try context.axesKnownAtLoad(inputFromOpset: 13)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let requested = attributeAxes ?? inputs.integers(1)
        let axes = try requested.map { try normalizedAxes($0, rank: x.shape.count) } ?? x.shape.indices.filter { x.shape[$0] == 1 }
        if let wide = axes.first(where: { x.shape[$0] != 1 }) {
            throw InferenceError.invalidOperand("cannot squeeze axis \(wide) of \(x.shape): its size is not 1")
        }
        return x.reshaped(to: x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] })
    }
}

/// Inserts size-1 axes at the listed positions of the output (attribute before opset 13, input from 13).
struct Unsqueeze: SingleOutputOperator {
    var viewsFirstInput: Bool { true }

    let attributeAxes: [Int]??
    let axesKnownAtLoad: [Int]??

    init(_ context: OperatorContext) throws {
        attributeAxes = try context.axesAttribute(inputFromOpset: 13)
        axesKnownAtLoad = try context.axesKnownAtLoad(inputFromOpset: 13)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard let requested = attributeAxes ?? inputs.integers(1) else { throw InferenceError.invalidOperand("axes are required") }
        let rank = x.shape.count + requested.count
        let axes = Set(try normalizedAxes(requested, rank: rank))
        var remaining = x.shape.makeIterator()
        let shape = (0..<rank).map { axes.contains($0) ? 1 : remaining.next()! }
        return x.reshaped(to: shape)
    }
}

extension Squeeze: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, let requested = axesKnownAtLoad else { return [] }
        guard let requested else {
            // Every size-1 axis goes: which those are is known only when every size is.
            return x.contains(nil) ? [] : [x.filter { $0 != 1 }]
        }
        let axes = try normalizedAxes(requested, rank: x.count)
        if let wide = axes.first(where: { x[$0].map { $0 != 1 } ?? false }) {
            throw InferenceError.invalidOperand("cannot squeeze axis \(wide) of \(StaticShapes.describe(x)): its size is not 1")
        }
        return [x.indices.filter { !axes.contains($0) }.map { x[$0] }]
    }
}

extension Unsqueeze: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, let requested = axesKnownAtLoad ?? nil else { return [] }
        let rank = x.count + requested.count
        let axes = Set(try normalizedAxes(requested, rank: rank))
        var remaining = x.makeIterator()
        return [(0..<rank).map { axes.contains($0) ? 1 : remaining.next()! }]
    }
}
