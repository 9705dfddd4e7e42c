/// Shape: the input's dimensions as int64, optionally the [start, end) range of them (opset 15).
struct ShapeOf: SingleOutputOperator {
    let start: Int
    let end: Int?

    init(_ context: OperatorContext) throws {
        start = try context.attributes.int("start", default: 0)
        end = try context.attributes.int("end")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let shape = try inputs.required(0).shape
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + shape.count : value, 0), shape.count) }
        let dimensions = shape[clamp(start)..<max(clamp(start), clamp(end ?? shape.count))].map { Int64($0) }
        return Tensor(shape: [dimensions.count], int64s: dimensions)
    }
}

/// Size: the element count as an int64 scalar.
struct SizeOf: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        Tensor(shape: [], int64s: [Int64(try inputs.required(0).count)])
    }
}

/// ConstantOfShape: a tensor of the given shape filled with `value` (default float32 0).
struct ConstantOfShape: SingleOutputOperator {
    let value: Tensor

    init(_ context: OperatorContext) throws {
        value = try context.attributes.tensor("value") ?? Tensor(shape: [1], floats: [0])
        guard value.count == 1 else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "value", reason: "must hold exactly one element")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let shape = try inputs.required(0).int64s.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw InferenceError.invalidOperand("shape \(shape) has a negative dimension") }
        return value.gathered(Array(repeating: 0, count: shape.reduce(1, *)), shape: shape)
    }
}

/// Expand: broadcasts the input to the shape it and the requested shape broadcast to together.
struct Expand: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let requested = try inputs.required(1).int64s.map { Int($0) }
        let shape = try Broadcasting(x.shape, requested).shape
        return x.gathered(try Broadcasting.positions(of: x.shape, in: shape), shape: shape)
    }
}

/// Range(start, limit, delta): the 1-D sequence start, start + delta, ... short of limit, in the operands' type.
struct RangeSequence: SingleOutputOperator {
    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let start = try inputs.required(0), limit = try inputs.required(1), delta = try inputs.required(2)
        guard [start, limit, delta].allSatisfy({ $0.count == 1 && $0.elementType == start.elementType }) else {
            throw InferenceError.invalidOperand("start, limit and delta must be scalars of one type")
        }
        if start.elementType.isFloatingPoint {
            let (first, end, step) = (start.float(at: 0), limit.float(at: 0), delta.float(at: 0))
            guard step != 0 else { throw InferenceError.invalidOperand("delta must not be 0") }
            let count = max(Int(((end - first) / step).rounded(.up)), 0)
            return Tensor(shape: [count], floats: (0..<count).map { first + Float($0) * step }, as: start.elementType)
        }
        let (first, end, step) = (start.int64(at: 0), limit.int64(at: 0), delta.int64(at: 0))
        guard step != 0 else { throw InferenceError.invalidOperand("delta must not be 0") }
        let count = max(Int((Double(end - first) / Double(step)).rounded(.up)), 0)
        return try Tensor(shape: [count], int64s: (0..<count).map { first + Int64($0) * step }).converted(to: start.elementType)
    }
}

extension ShapeOf: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + x.count : value, 0), x.count) }
        return [[max(clamp(start), clamp(end ?? x.count)) - clamp(start)]]
    }
}
