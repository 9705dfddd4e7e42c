/// How a scatter combines an update with the value already there (opset 16/18 `reduction`).
enum ScatterReduction: String, CaseIterable {
    case none, add, mul, max, min

    init(_ context: OperatorContext) throws {
        self = try context.attributes.choice("reduction", default: Self.none)
    }

    /// `data` with `updates[u]` written (or combined) at `targets[u]`, in update order.
    func scatter(_ updates: Tensor, at targets: [Int], into data: Tensor) throws -> Tensor {
        guard updates.elementType == data.elementType else {
            throw InferenceError.invalidOperand("updates are \(updates.elementType.rawValue) but data is \(data.elementType.rawValue)")
        }
        if self == .none {
            // Every element reads itself unless an update lands on it; updates follow the data in the joined storage.
            var positions = Array(0..<data.count)
            for (update, target) in targets.enumerated() { positions[target] = data.count + update }
            return Tensor(shape: data.shape, storage: try data.joined(with: updates).gathered(positions))
        }
        if data.elementType.isFloatingPoint {
            var values = data.floats
            for (update, target) in targets.enumerated() { values[target] = combine(values[target], updates.float(at: update)) }
            return Tensor(shape: data.shape, floats: values, as: data.elementType)
        }
        var values = data.int64s
        for (update, target) in targets.enumerated() { values[target] = combine(values[target], updates.int64(at: update)) }
        return try Tensor(shape: data.shape, int64s: values).converted(to: data.elementType)
    }

    private func combine<T: Numeric & Comparable>(_ current: T, _ update: T) -> T {
        switch self {
        case .none: update
        case .add: current + update
        case .mul: current * update
        case .max: Swift.max(current, update)
        case .min: Swift.min(current, update)
        }
    }
}

/// ScatterElements (and the older Scatter): updates written along `axis` at the positions indices name.
struct ScatterElements: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let reduction: ScatterReduction

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: 0)
        reduction = try ScatterReduction(context)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0), indices = try inputs.required(1), updates = try inputs.required(2)
        guard indices.shape == updates.shape else {
            throw InferenceError.invalidOperand("indices \(indices.shape) and updates \(updates.shape) must have one shape")
        }
        let targets = try GatherElements.positions(in: data.shape, addressedBy: indices, along: axis)
        return try reduction.scatter(updates, at: targets, into: data)
    }
}

/// ScatterND: each index tuple names a slice of data that takes the matching slice of updates.
struct ScatterND: SingleOutputOperator, ShapePreserving {
    let reduction: ScatterReduction

    init(_ context: OperatorContext) throws {
        reduction = try ScatterReduction(context)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let data = try inputs.required(0), indices = try inputs.required(1), updates = try inputs.required(2)
        let addressing = try NDAddressing(data: data.shape, indices: indices, batchDimensions: 0)
        guard updates.count == addressing.tupleCount * addressing.sliceSize else {
            throw InferenceError.invalidOperand("updates \(updates.shape) do not fit indices \(indices.shape) into data \(data.shape)")
        }
        var targets: [Int] = []
        targets.reserveCapacity(updates.count)
        for tuple in 0..<addressing.tupleCount {
            let start = try addressing.start(ofTuple: tuple)
            targets.append(contentsOf: start..<(start + addressing.sliceSize))
        }
        return try reduction.scatter(updates, at: targets, into: data)
    }
}

/// TensorScatter (opset 24): a key/value cache update. `update` is written into `past_cache` along
/// `axis`, starting at each batch's write index (0 without write_indices); in circular mode
/// positions past the cache's end wrap to its start.
struct TensorScatter: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let isCircular: Bool

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -2)
        let mode = try context.attributes.string("mode", default: "linear")
        guard mode == "linear" || mode == "circular" else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "mode", reason: "must be 'linear' or 'circular', got '\(mode)'")
        }
        isCircular = mode == "circular"
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let cache = try inputs.required(0), update = try inputs.required(1)
        let axis = try normalizedAxis(axis, rank: cache.shape.count)
        guard axis > 0 else { throw InferenceError.invalidOperand("axis must not be the batch axis 0") }
        let capacity = cache.shape[axis], length = update.shape.count == cache.shape.count ? update.shape[axis] : -1
        guard length >= 0, length <= capacity,
              update.shape.indices.allSatisfy({ $0 == axis || update.shape[$0] == cache.shape[$0] }) else {
            throw InferenceError.invalidOperand("update \(update.shape) must match past_cache \(cache.shape) except for at most as long an axis \(axis)")
        }
        let batches = cache.shape[0]
        let starts = inputs.optional(2)?.int64s.map(Int.init) ?? Array(repeating: 0, count: batches)
        guard starts.count == batches else {
            throw InferenceError.invalidOperand("write_indices must hold one index per batch (\(batches)), got \(starts.count)")
        }
        let blocks = cache.shape[..<axis].reduce(1, *), inner = cache.shape[(axis + 1)...].reduce(1, *)
        let blocksPerBatch = blocks / max(batches, 1)
        var targets: [Int] = []
        targets.reserveCapacity(update.count)
        for block in 0..<blocks {
            let start = starts[block / blocksPerBatch]
            for step in 0..<length {
                var position = start + step
                if isCircular {
                    position = (position % capacity + capacity) % capacity
                } else if !(0..<capacity).contains(position) {
                    throw InferenceError.invalidOperand("write index \(start) with \(length) updates runs past the cache's \(capacity) positions")
                }
                let first = (block * capacity + position) * inner
                targets.append(contentsOf: first..<(first + inner))
            }
        }
        return try ScatterReduction.none.scatter(update, at: targets, into: cache)
    }
}
