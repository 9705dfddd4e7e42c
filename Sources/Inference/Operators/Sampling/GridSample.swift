/// GridSample (opsets 16, 20, 22): each output point samples X [N, C, spatial...] at the normalized
/// coordinates (-1 to 1, innermost axis first: x, y, z) that the grid [N, output spatial..., rank]
/// holds for it, by nearest, linear or cubic interpolation over every spatial axis. Points and taps
/// outside X read zeros, the border, or X reflected at its edges. With align_corners, -1 and 1 are
/// the centres of the edge elements; without, their outer edges.
struct GridSample: SingleOutputOperator {
    private enum Interpolation { case nearest, linear, cubic }
    private enum Padding: String, CaseIterable { case zeros, border, reflection }

    private let interpolation: Interpolation
    private let padding: Padding
    private let alignCorners: Bool

    init(_ context: OperatorContext) throws {
        let node = context.node.name
        // Opset 20 renamed bilinear and bicubic when it extended them beyond 2-D.
        let modes: [String: Interpolation] = context.opset < 20
            ? ["bilinear": .linear, "nearest": .nearest, "bicubic": .cubic] : ["linear": .linear, "nearest": .nearest, "cubic": .cubic]
        let mode = try context.attributes.string("mode", default: context.opset < 20 ? "bilinear" : "linear")
        guard let interpolation = modes[mode] else {
            throw InferenceError.invalidAttribute(node: node, attribute: "mode",
                                                  reason: "must be one of \(modes.keys.sorted()), got '\(mode)'")
        }
        self.interpolation = interpolation
        padding = try context.attributes.choice("padding_mode", default: Padding.zeros)
        alignCorners = try context.attributes.int("align_corners", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), grid = try inputs.required(1)
        let rank = x.shape.count - 2
        guard rank >= 1, x.shape[2...].allSatisfy({ $0 > 0 }), grid.shape.count == x.shape.count, grid.shape[0] == x.shape[0],
              grid.shape.last == rank else {
            throw InferenceError.invalidOperand(
                "grid \(grid.shape) must be [\(x.shape.first ?? 0), output spatial..., \(rank)] for X \(x.shape), whose spatial axes must not be empty")
        }
        let (batches, channels) = (x.shape[0], x.shape[1])
        let inputShape = Array(x.shape[2...]), outputShape = Array(grid.shape[1..<(grid.shape.count - 1)])
        let inputSize = inputShape.reduce(1, *), outputSize = outputShape.reduce(1, *), inputStrides = rowMajorStrides(inputShape)
        let input = try x.floatOperand("X"), coordinates = try grid.floatOperand("grid")
        var output = [Float](repeating: 0, count: batches * channels * outputSize)
        for batch in 0..<batches {
            for point in 0..<outputSize {
                let gridStart = (batch * outputSize + point) * rank
                var samples = [(offset: 0, weight: Float(1))]
                for axis in 0..<rank {
                    let axisTaps = taps(coordinates[gridStart + rank - 1 - axis], length: inputShape[axis])
                    samples = samples.flatMap { sample in
                        axisTaps.map { (sample.offset + $0.index * inputStrides[axis], sample.weight * $0.weight) }
                    }
                }
                for channel in 0..<channels {
                    let plane = (batch * channels + channel) * inputSize
                    output[(batch * channels + channel) * outputSize + point] =
                        samples.reduce(0) { $0 + $1.weight * input[plane + $1.offset] }
                }
            }
        }
        return Tensor(shape: [batches, channels] + outputShape, floats: output, as: x.elementType)
    }

    /// The indices and weights that sample an axis of `length` at `normalized`; taps the zeros
    /// padding reads as 0 are left out.
    private func taps(_ normalized: Float, length: Int) -> [(index: Int, weight: Float)] {
        let (low, high) = alignCorners ? (Float(0), Float(length - 1)) : (Float(-0.5), Float(length) - 0.5)
        var coordinate = alignCorners ? (normalized + 1) / 2 * Float(length - 1) : ((normalized + 1) * Float(length) - 1) / 2
        guard coordinate.isFinite else { return [] }
        if interpolation == .nearest { coordinate.round(.toNearestOrEven) }
        if coordinate < low || coordinate > high {
            switch (padding, interpolation) {
            case (.reflection, _): coordinate = Self.reflect(coordinate, low: low, high: high)
            case (.border, .nearest), (.border, .linear): coordinate = min(max(coordinate, 0), Float(length - 1))
            case (.zeros, _), (.border, .cubic):
                // Cubic taps take the border one by one (as onnxruntime's and PyTorch's do) rather
                // than from a clamped point. Far enough out, every tap reads zero or the edge, so
                // the point is held near enough to index with an Int.
                coordinate = min(max(coordinate, -4), Float(length) + 4)
            }
        }
        let first = coordinate.rounded(.down), fraction = coordinate - first, start = Int(first)
        let weighted: [(index: Int, weight: Float)] = switch interpolation {
        // Truncated, not floored: a reflected coordinate just below 0 reads element 0.
        case .nearest: [(Int(coordinate), 1)]
        case .linear: [(start, 1 - fraction), (start + 1, fraction)]
        case .cubic: (-1...2).map { (start + $0, Resize.cubicKernel(abs(fraction - Float($0)), a: -0.75)) }
        }
        return weighted.compactMap { tap in padded(tap.index, length: length, low: low, high: high).map { ($0, tap.weight) } }
    }

    /// Where an index outside 0..<length reads from, or nil for zeros.
    private func padded(_ index: Int, length: Int, low: Float, high: Float) -> Int? {
        if (0..<length).contains(index) { return index }
        switch padding {
        case .zeros: return nil
        case .border: return min(max(index, 0), length - 1)
        case .reflection: return Int(Self.reflect(Float(index), low: low, high: high))
        }
    }

    /// `x` folded back into low...high as between two mirrors, as often as it takes.
    private static func reflect(_ x: Float, low: Float, high: Float) -> Float {
        let span = high - low
        guard x < low || x > high else { return x }
        guard span > 0 else { return low }
        let below = x < low, distance = below ? low - x : x - high
        let folds = (distance / span).rounded(.towardZero), rest = distance - folds * span
        // An even number of folds leaves it measured from the edge it crossed.
        let fromLow = (folds.truncatingRemainder(dividingBy: 2) == 0) == below
        return fromLow ? low + rest : high - rest
    }
}
