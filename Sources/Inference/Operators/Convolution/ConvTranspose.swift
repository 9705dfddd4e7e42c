/// Float transposed convolution over 1 to 3 spatial dimensions with groups, strides, dilations,
/// pads, output_padding, output_shape and auto_pad. Each group's weights, transposed to
/// [M/group x kernel, C/group], multiply the input on the float GEMM; the product's columns are then
/// scattered and summed into the output (col2im), the mirror image of Conv's im2col.
struct ConvTranspose: SingleOutputOperator {
    let groups: Int
    let strides: [Int]?
    let dilations: [Int]?
    let pads: [Int]?
    let outputPadding: [Int]?
    let outputShape: [Int]?
    let autoPad: SlidingWindow.AutoPad
    private let multiplier: MatrixMultiplier
    /// The weights transposed per group at load, when they are a constant.
    private let transposedWeights: [Float]?
    private let geometries = ShapeKeyedCache<TransposedWindow>()

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        multiplier = context.multiplier
        groups = try attributes.int("group", default: 1)
        strides = try attributes.ints("strides")
        dilations = try attributes.ints("dilations")
        pads = try attributes.ints("pads")
        outputPadding = try attributes.ints("output_padding")
        outputShape = try attributes.ints("output_shape")
        let autoPadName = try attributes.string("auto_pad", default: "NOTSET")
        guard let autoPad = SlidingWindow.AutoPad(rawValue: autoPadName) else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "auto_pad", reason: "'\(autoPadName)' is not a known value")
        }
        self.autoPad = autoPad
        guard groups > 0 else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "group", reason: "must be positive") }
        let groups = groups
        transposedWeights = try context.constantInput(1).map { try Self.transposed($0, groups: groups) }
    }

    var preparedBytes: Int { (transposedWeights?.count ?? 0) * MemoryLayout<Float>.stride }

    /// W [C, M/group, kernel...] as, per group, [M/group x kernel, C/group] row-major.
    private static func transposed(_ w: Tensor, groups: Int) throws -> [Float] {
        guard w.shape.count >= 3, w.shape[0] % groups == 0 else {
            throw InferenceError.invalidOperand("W \(w.shape) must be [C, M/group, kernel...] with C divisible by \(groups) groups")
        }
        let values = try w.floatOperand("W")
        let groupChannels = w.shape[0] / groups
        let rows = w.shape.dropFirst().reduce(1, *)
        var result = [Float](repeating: 0, count: values.count)
        for group in 0..<groups {
            let base = group * groupChannels * rows
            for channel in 0..<groupChannels {
                for row in 0..<rows {
                    result[base + row * groupChannels + channel] = values[base + channel * rows + row]
                }
            }
        }
        return result
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), w = try inputs.required(1)
        guard x.shape.count >= 3, w.shape.count == x.shape.count, w.shape[0] == x.shape[1], x.shape[1] % groups == 0 else {
            throw InferenceError.invalidOperand("X \(x.shape) and W \(w.shape) must be [N, C, spatial...] and [C, M/group, kernel...] with C divisible by \(groups) groups")
        }
        let (batch, channels, groupFilters) = (x.shape[0], x.shape[1], w.shape[1])
        let filters = groupFilters * groups
        let (inputSize, kernel) = (Array(x.shape.dropFirst(2)), Array(w.shape.dropFirst(2)))
        let geometry = try geometries.value(inputSize, kernel) {
            try TransposedWindow(inputSize: inputSize, kernel: kernel, operator: self)
        }
        let bias = try inputs.optional(2).map { try $0.floatOperand("B") }
        guard bias.map({ $0.count == filters }) ?? true else { throw InferenceError.invalidOperand("B must hold \(filters) values") }

        let xValues = try x.floatOperand("X")
        let weights = try transposedWeights ?? Self.transposed(w, groups: groups)
        let groupChannels = channels / groups
        let (inputCount, kernelCount, outputCount) = (geometry.inputCount, geometry.kernelCount, geometry.outputCount)
        let rows = groupFilters * kernelCount
        // The product writes every column entry; the output sums overlapping windows, so it starts at zero.
        var columns = [Float](recycledCapacity: rows * inputCount) { $1 = $0.count }
        var output = [Float](recycledRepeating: 0, count: batch * filters * outputCount)
        let table = geometry.outputPositions
        xValues.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                columns.withUnsafeMutableBufferPointer { columns in
                    output.withUnsafeMutableBufferPointer { output in
                        for image in 0..<batch {
                            for group in 0..<groups {
                                multiplier.multiply(w.baseAddress! + group * rows * groupChannels,
                                                    x.baseAddress! + (image * channels + group * groupChannels) * inputCount,
                                                    into: columns.baseAddress!, rows: rows, depth: groupChannels, columns: inputCount)
                                for filter in 0..<groupFilters {
                                    let target = output.baseAddress! + (image * filters + group * groupFilters + filter) * outputCount
                                    for kernelPosition in 0..<kernelCount {
                                        let row = (filter * kernelCount + kernelPosition) * inputCount
                                        let positions = kernelPosition * inputCount
                                        for input in 0..<inputCount where table[positions + input] >= 0 {
                                            target[table[positions + input]] += columns[row + input]
                                        }
                                    }
                                }
                            }
                            if let bias { addChannelBias(bias, to: output.baseAddress! + image * filters * outputCount, planeSize: outputCount) }
                        }
                    }
                }
            }
        }
        columns.recycle()
        return Tensor(shape: [batch, filters] + geometry.outputSize, floats: output, as: x.elementType)
    }
}

/// Where each (kernel position, input position) of a transposed convolution lands in the output.
struct TransposedWindow {
    let outputSize: [Int]
    let kernelCount: Int
    let inputCount: Int
    /// Row-major over (kernel, input): the output position, or -1 where it falls in the padding.
    let outputPositions: [Int]

    var outputCount: Int { outputSize.reduce(1, *) }

    init(inputSize: [Int], kernel: [Int], operator op: ConvTranspose) throws {
        let rank = inputSize.count
        let strides = op.strides ?? Array(repeating: 1, count: rank)
        let dilations = op.dilations ?? Array(repeating: 1, count: rank)
        let outputPadding = op.outputPadding ?? Array(repeating: 0, count: rank)
        guard strides.count == rank, dilations.count == rank, outputPadding.count == rank,
              (strides + dilations).allSatisfy({ $0 > 0 }) else {
            throw InferenceError.invalidOperand("strides \(strides), dilations \(dilations) and output_padding \(outputPadding) must give one value per spatial dimension of \(inputSize)")
        }
        // The extent before padding is removed: every input position's full kernel footprint.
        let fullSize = (0..<rank).map { axis -> Int in
            let footprint = (kernel[axis] - 1) * dilations[axis] + 1
            return strides[axis] * (inputSize[axis] - 1) + outputPadding[axis] + footprint
        }
        var padsBegin = [Int](repeating: 0, count: rank)
        var outputSize = fullSize
        let requested = op.outputShape.map { Array($0.suffix(rank)) }
            ?? (op.autoPad == .sameUpper || op.autoPad == .sameLower ? (0..<rank).map { inputSize[$0] * strides[$0] } : nil)
        if let requested {
            for axis in 0..<rank {
                // A requested extent beyond the footprint makes the total negative: round the
                // halves down, as ONNX's reference does, so the extra lands at the end.
                let total = fullSize[axis] - requested[axis]
                let half = Int((Double(total) / 2).rounded(.down))
                padsBegin[axis] = op.autoPad == .sameUpper ? half : total - half
                outputSize[axis] = requested[axis]
            }
        } else if op.autoPad == .notSet, let pads = op.pads {
            guard pads.count == 2 * rank else { throw InferenceError.invalidOperand("pads \(pads) must hold \(2 * rank) values") }
            for axis in 0..<rank {
                padsBegin[axis] = pads[axis]
                outputSize[axis] = fullSize[axis] - pads[axis] - pads[rank + axis]
            }
        }
        guard outputSize.allSatisfy({ $0 > 0 }) else {
            throw InferenceError.invalidOperand("the output extent \(outputSize) of input \(inputSize) and kernel \(kernel) is empty")
        }
        self.outputSize = outputSize
        kernelCount = kernel.reduce(1, *)
        inputCount = inputSize.reduce(1, *)

        let outputStrides = rowMajorStrides(outputSize)
        var table = [Int](repeating: -1, count: kernelCount * inputCount)
        for kernelPosition in 0..<kernelCount {
            let kernelIndex = multiIndex(kernelPosition, in: kernel)
            for inputPosition in 0..<inputCount {
                let inputIndex = multiIndex(inputPosition, in: inputSize)
                var position = 0
                var inside = true
                for axis in 0..<rank {
                    let coordinate = inputIndex[axis] * strides[axis] - padsBegin[axis] + kernelIndex[axis] * dilations[axis]
                    if coordinate < 0 || coordinate >= outputSize[axis] { inside = false; break }
                    position += coordinate * outputStrides[axis]
                }
                if inside { table[kernelPosition * inputCount + inputPosition] = position }
            }
        }
        outputPositions = table
    }
}

/// The row-major multi-index of flat position `position` in `shape`.
private func multiIndex(_ position: Int, in shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var remainder = position
    for axis in shape.indices.reversed() {
        index[axis] = remainder % shape[axis]
        remainder /= shape[axis]
    }
    return index
}
