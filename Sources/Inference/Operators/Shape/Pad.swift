/// Pad in constant, reflect, edge and wrap modes. Pads (begin values, then end values; negative ones
/// crop) and the constant are attributes before opset 11 and inputs from then on, with optional axes
/// from opset 18.
struct Pad: SingleOutputOperator {
    enum Mode: String, CaseIterable { case constant, reflect, edge, wrap }

    let mode: Mode
    /// Opset 2 form: pads and value as attributes.
    let attributePads: [Int]?
    let attributeValue: Float

    init(_ context: OperatorContext) throws {
        mode = try context.attributes.choice("mode", default: Mode.constant)
        attributePads = context.opset < 11 ? try context.attributes.ints("pads") ?? [] : nil
        attributeValue = try context.attributes.float("value", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), rank = x.shape.count
        let listed = try attributePads ?? inputs.required(1).int64s.map { Int($0) }
        let axes = try inputs.integers(3).map { try normalizedAxes($0, rank: rank) } ?? Array(0..<rank)
        guard listed.count == 2 * axes.count else {
            throw InferenceError.invalidOperand("pads has \(listed.count) values; \(axes.count) axes need \(2 * axes.count)")
        }
        var before = [Int](repeating: 0, count: rank), after = before
        for (slot, axis) in axes.enumerated() {
            before[axis] = listed[slot]
            after[axis] = listed[slot + axes.count]
        }
        let shape = try x.shape.indices.map { axis in
            let size = x.shape[axis] + before[axis] + after[axis]
            guard size >= 0 else { throw InferenceError.invalidOperand("pads \(listed) crop axis \(axis) of \(x.shape) below zero") }
            if mode != .constant, size > 0, x.shape[axis] == 0 { throw InferenceError.invalidOperand("\(mode.rawValue) padding of an empty axis") }
            return size
        }
        let fill = attributePads == nil ? inputs.optional(2).flatMap { $0.count == 1 ? $0.reshaped(to: [1]) : nil } : nil
        let padding = try fill ?? x.scalar(attributeValue)
        let source = try x.joined(with: padding), strides = x.strides
        var positions: [Int] = []
        positions.reserveCapacity(shape.reduce(1, *))
        forEachIndex(of: shape) { index in
            var offset = 0
            for axis in 0..<rank {
                guard let inside = sourceIndex(index[axis] - before[axis], size: x.shape[axis]) else {
                    positions.append(x.count)
                    return
                }
                offset += inside * strides[axis]
            }
            positions.append(offset)
        }
        return Tensor(shape: shape, storage: source.gathered(positions))
    }

    /// Where an output index (shifted by the leading pad) reads along an axis of `size`; nil for the constant.
    private func sourceIndex(_ index: Int, size: Int) -> Int? {
        if (0..<size).contains(index) { return index }
        switch mode {
        case .constant: return nil
        case .edge: return min(max(index, 0), size - 1)
        case .wrap: return ((index % size) + size) % size
        case .reflect:
            guard size > 1 else { return 0 }
            let period = 2 * (size - 1)
            let folded = ((index % period) + period) % period
            return folded < size ? folded : period - folded
        }
    }
}
