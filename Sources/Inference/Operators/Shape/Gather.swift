/// Gather along `axis` with int32/int64 indices (negative ones count from the end).
struct Gather: SingleOutputOperator {
    let axis: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0), indices = try inputs.required(1)
        let axis = try normalizedAxis(axis, rank: data.shape.count)
        let length = data.shape[axis]
        let resolved = try Self.positions(of: indices, length: length, axis: axis)
        let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
        // Each gathered index is a run of `inner` elements: copied whole, no table per element.
        var starts: [Int] = []
        starts.reserveCapacity(outer * resolved.count)
        for block in 0..<outer {
            for index in resolved { starts.append((block * length + index) * inner) }
        }
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        return Tensor(shape: shape, storage: data.storage.runs(from: starts, width: inner))
    }

    /// The int32/int64 `indices` as positions along an axis of `length` (negative ones from the end).
    static func positions(of indices: Tensor, length: Int, axis: Int) throws -> [Int] {
        guard indices.elementType == .int64 || indices.elementType == .int32 else {
            throw InferenceError.invalidOperand("indices must be int32 or int64, got \(indices.elementType.rawValue)")
        }
        return try indices.int64s.map { index in
            let position = index < 0 ? Int(index) + length : Int(index)
            guard (0..<length).contains(position) else {
                throw InferenceError.invalidOperand("index \(index) is out of range for axis \(axis) of size \(length)")
            }
            return position
        }
    }
}

extension Gather: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard inputs.count > 1, let data = inputs[0], let indices = inputs[1] else { return [] }
        let axis = try normalizedAxis(axis, rank: data.count)
        return [Array(data[..<axis]) + indices + Array(data[(axis + 1)...])]
    }
}
