import Foundation

/// InstanceNormalization and GroupNormalization over NC...: each (sample, group) normalized to zero
/// mean and unit variance over its channels and spatial positions, then scaled and shifted per channel
/// (per group before GroupNormalization-21). InstanceNormalization is one group per channel.
struct GroupNormalization: SingleOutputOperator, ShapePreserving {
    let epsilon: Float
    /// nil: InstanceNormalization (one group per channel).
    let groups: Int?
    /// GroupNormalization-18 takes one scale and bias per group; opset 21 one per channel.
    let scalesPerGroup: Bool

    init(_ context: OperatorContext) throws {
        epsilon = try context.attributes.float("epsilon", default: 1e-5)
        let isGroup = context.node.opType == "GroupNormalization"
        groups = isGroup ? try context.attributes.requiredInt("num_groups") : nil
        scalesPerGroup = isGroup && context.opset < 21
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count >= 2 else { throw InferenceError.invalidOperand("expects N x C x ..., got \(x.shape)") }
        let input = try x.floatOperand("X"), scales = try inputs.required(1).floats, biases = try inputs.required(2).floats
        let (batch, channels) = (x.shape[0], x.shape[1]), spatial = x.shape[2...].reduce(1, *)
        let groups = self.groups ?? channels
        guard groups > 0, channels % groups == 0 else { throw InferenceError.invalidOperand("\(channels) channels do not split into \(groups) groups") }
        let perParameter = scalesPerGroup ? groups : channels
        guard scales.count == perParameter, biases.count == perParameter else {
            throw InferenceError.invalidOperand("scale and bias need \(perParameter) values, got \(scales.count) and \(biases.count)")
        }
        let groupSize = channels / groups * spatial
        var output = input
        for sample in 0..<batch {
            for group in 0..<groups {
                let start = (sample * groups + group) * groupSize
                let slice = input[start..<(start + groupSize)]
                let mean = slice.reduce(0, +) / Float(groupSize)
                let variance = slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(groupSize)
                let inverse = 1 / (variance + epsilon).squareRoot()
                for offset in 0..<groupSize {
                    let channel = group * (channels / groups) + offset / spatial
                    let parameter = scalesPerGroup ? group : channel
                    output[start + offset] = (input[start + offset] - mean) * inverse * scales[parameter] + biases[parameter]
                }
            }
        }
        return Tensor(shape: x.shape, floats: output, as: x.elementType)
    }
}

/// MeanVarianceNormalization: zero mean and unit variance over `axes` (default N, H, W).
struct MeanVarianceNormalization: SingleOutputOperator, ShapePreserving {
    let axes: [Int]

    init(_ context: OperatorContext) throws {
        axes = try context.attributes.ints("axes") ?? [0, 2, 3]
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let axes = try normalizedAxes(axes, rank: x.shape.count), input = try x.floatOperand("X")
        let statisticsShape = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        let statisticsStrides = rowMajorStrides(statisticsShape).enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
        var slots: [Int] = []
        slots.reserveCapacity(x.count)
        forEachIndex(of: x.shape) { slots.append(position(of: $0, strides: statisticsStrides)) }
        let groups = statisticsShape.reduce(1, *), size = Float(x.count / max(groups, 1))
        var sums = [Float](repeating: 0, count: groups), squares = sums
        for (element, slot) in slots.enumerated() {
            sums[slot] += input[element]
            squares[slot] += input[element] * input[element]
        }
        let means = sums.map { $0 / size }
        let deviations = zip(squares, means).map { max($0 / size - $1 * $1, 0).squareRoot() }
        let values = slots.enumerated().map { element, slot in (input[element] - means[slot]) / (deviations[slot] + 1e-9) }
        return Tensor(shape: x.shape, floats: values, as: x.elementType)
    }
}

/// LpNormalization: each vector along `axis` divided by its L1 or L2 norm (a zero vector stays zero).
struct LpNormalization: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let p: Int

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -1)
        p = try context.attributes.int("p", default: 2)
        guard p == 1 || p == 2 else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "p", reason: "must be 1 or 2, got \(p)") }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        var values = try x.floatOperand("input")
        let length = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        for block in 0..<outer {
            for offset in 0..<inner {
                let positions = (0..<length).map { block * length * inner + $0 * inner + offset }
                let norm = p == 1 ? positions.reduce(0) { $0 + abs(values[$1]) } : positions.reduce(0) { $0 + values[$1] * values[$1] }.squareRoot()
                if norm > 0 { for position in positions { values[position] /= norm } }
            }
        }
        return Tensor(shape: x.shape, floats: values, as: x.elementType)
    }
}

/// LRN: each element divided by (bias + alpha / size * the sum of squares over `size` neighbouring channels) ^ beta.
struct LocalResponseNormalization: SingleOutputOperator, ShapePreserving {
    let size: Int
    let alpha: Float
    let beta: Float
    let bias: Float

    init(_ context: OperatorContext) throws {
        size = try context.attributes.requiredInt("size")
        alpha = try context.attributes.float("alpha", default: 0.0001)
        beta = try context.attributes.float("beta", default: 0.75)
        bias = try context.attributes.float("bias", default: 1)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count >= 2 else { throw InferenceError.invalidOperand("expects N x C x ..., got \(x.shape)") }
        let input = try x.floatOperand("X")
        let channels = x.shape[1], spatial = x.shape[2...].reduce(1, *), images = x.shape[0]
        let below = (size - 1) / 2, above = size - 1 - below
        let (bias, scale, beta) = (bias, alpha / Float(size), beta)
        var output = [Float](recycledUnwritten: input.count)
        var squares = [Float](recycledUnwritten: spatial)
        // A plane at a time: the neighbours' squares summed element-wise, then each element scaled,
        // loops the compiler vectorises. The default beta 0.75 is sqrt(t) * sqrt(sqrt(t)), not pow.
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                squares.withUnsafeMutableBufferPointer { squares in
                    for image in 0..<images {
                        for channel in 0..<channels {
                            squares.update(repeating: 0)
                            for neighbour in max(0, channel - below)...min(channels - 1, channel + above) {
                                let plane = input.baseAddress! + (image * channels + neighbour) * spatial
                                for i in 0..<spatial { squares[i] += plane[i] * plane[i] }
                            }
                            let offset = (image * channels + channel) * spatial
                            let (x, y) = (input.baseAddress! + offset, output.baseAddress! + offset)
                            if beta == 0.75 {
                                for i in 0..<spatial {
                                    let root = (bias + scale * squares[i]).squareRoot()
                                    y[i] = x[i] / (root * root.squareRoot())
                                }
                            } else {
                                for i in 0..<spatial { y[i] = x[i] / pow(bias + scale * squares[i], beta) }
                            }
                        }
                    }
                }
            }
        }
        squares.recycle()
        return Tensor(shape: x.shape, floats: output, as: x.elementType)
    }
}

/// RMSNormalization (opset 23): each row over the axes from `axis` on divided by its root mean
/// square (plus epsilon), then scaled.
struct RMSNormalization: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let epsilon: Float

    init(_ context: OperatorContext) throws {
        axis = try context.attributes.int("axis", default: -1)
        epsilon = try context.attributes.float("epsilon", default: 1e-5)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), scale = try inputs.required(1)
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let size = x.shape[axis...].reduce(1, *), rows = x.shape[..<axis].reduce(1, *)
        let input = try x.floatOperand("X"), scaleValues = try scale.floatOperand("scale")
        let scales = scaleValues.count == size ? scaleValues
            : try Broadcasting.positions(of: scale.shape, in: Array(x.shape[axis...])).map { scaleValues[$0] }
        var output = input
        for row in 0..<rows {
            let slice = input[(row * size)..<((row + 1) * size)]
            let inverse = 1 / (slice.reduce(0) { $0 + $1 * $1 } / Float(size) + epsilon).squareRoot()
            for offset in 0..<size { output[row * size + offset] = input[row * size + offset] * inverse * scales[offset] }
        }
        return Tensor(shape: x.shape, floats: output, as: x.elementType)
    }
}
