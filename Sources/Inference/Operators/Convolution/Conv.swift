import CQuantKernels

/// Float convolution over 1 to 3 spatial dimensions with groups, strides, dilations, pads and
/// auto_pad: each group's input is unrolled (im2col) into a [C/group x kernel, output] matrix and
/// multiplied by the group's weights [M/group, C/group x kernel] on the float GEMM. Also FusedConv
/// (com.microsoft): the same, plus an optional Z (input 3) of the output's shape added, then an
/// activation, both applied tile by tile as the product leaves it in cache.
struct Conv: SingleOutputOperator {
    let window: SlidingWindow.Attributes
    let groups: Int
    let activation: ConvActivation?
    private let multiplier: MatrixMultiplier
    private let geometries = ShapeKeyedCache<SlidingWindow>()

    init(_ context: OperatorContext) throws {
        multiplier = context.multiplier
        window = try SlidingWindow.Attributes(context)
        groups = try context.attributes.int("group", default: 1)
        guard groups > 0 else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "group", reason: "must be positive") }
        activation = context.node.opType == "FusedConv" ? try ConvActivation(context) : nil
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), w = try inputs.required(1)
        guard x.shape.count >= 3, w.shape.count == x.shape.count else {
            throw InferenceError.invalidOperand("X \(x.shape) and W \(w.shape) must both be [N, C, spatial...] of one rank >= 3")
        }
        let (batch, channels, filters) = (x.shape[0], x.shape[1], w.shape[0])
        guard channels % groups == 0, filters % groups == 0, w.shape[1] == channels / groups else {
            throw InferenceError.invalidOperand("W \(w.shape) does not fit X \(x.shape) in \(groups) group(s)")
        }
        if let declared = window.kernel, !declared.elementsEqual(w.shape.dropFirst(2)) {
            throw InferenceError.invalidOperand("kernel_shape \(declared) differs from W's spatial shape \(Array(w.shape.dropFirst(2)))")
        }
        let geometry = try geometries.geometry(inputShape: x.shape, weightShape: w.shape, attributes: window)
        let bias = try inputs.optional(2).map { try $0.floatOperand("B") }
        guard bias.map({ $0.count == filters }) ?? true else { throw InferenceError.invalidOperand("B must hold \(filters) values") }

        let xValues = try x.floatOperand("X"), weights = try w.floatOperand("W")
        let outputShape = [batch, filters] + geometry.outputSize
        let addend = try inputs.optional(3).map { z in
            guard z.shape == outputShape else { throw InferenceError.invalidOperand("Z \(z.shape) must have the output's shape \(outputShape)") }
            return try z.floatOperand("Z")
        }
        let epilogue = Epilogue(bias: bias, addend: addend, activation: activation)
        if groups == channels, filters == channels, let planar = geometry.planar(channels: channels) {
            var output = Self.depthwise(xValues, weights: weights, bias: bias, planar: planar, batch: batch, path: multiplier.path)
            if addend != nil || activation != nil {
                let plane = geometry.outputCount
                output.withUnsafeMutableBufferPointer { output in
                    for row in 0..<(batch * filters) {
                        epilogue.finish(output.baseAddress!, filter: nil, position: row * plane, count: plane)
                    }
                }
            }
            return Tensor(shape: outputShape, floats: output, as: x.elementType)
        }
        let (groupChannels, groupFilters) = (channels / groups, filters / groups)
        let (inputCount, kernelCount, outputCount) = (geometry.inputSize.reduce(1, *), geometry.kernelCount, geometry.outputCount)
        let depth = groupChannels * kernelCount, tile = Self.tilePositions(depth: depth)
        // Neither buffer needs zeros: im2col writes every column entry, each product every output; a
        // 1x1 window multiplies the input itself and needs no columns at all.
        var columns = [Float](recycledUnwritten: geometry.isIdentity ? 0 : depth * min(tile, outputCount))
        var output = [Float](recycledUnwritten: batch * filters * outputCount)
        xValues.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                columns.withUnsafeMutableBufferPointer { columns in
                    output.withUnsafeMutableBufferPointer { output in
                        for image in 0..<batch {
                            for group in 0..<groups {
                                let input = x.baseAddress! + (image * channels + group * groupChannels) * inputCount
                                let (groupWeights, groupOutput) = (w.baseAddress! + group * groupFilters * depth,
                                                                   output.baseAddress! + (image * filters + group * groupFilters) * outputCount)
                                // A tile of positions at a time, so that its columns and outputs stay in
                                // cache for the product and the epilogue.
                                for first in stride(from: 0, to: outputCount, by: tile) {
                                    let positions = first..<min(first + tile, outputCount)
                                    if geometry.isIdentity {
                                        // A 1x1, stride-1, unpadded window: the input already is the column matrix.
                                        multiplier.multiply(groupWeights, input + first, ldb: outputCount, into: groupOutput + first, ldc: outputCount,
                                                            rows: groupFilters, depth: depth, columns: positions.count)
                                    } else {
                                        Self.unroll(input, channels: groupChannels, positions: positions, geometry: geometry, into: columns.baseAddress!)
                                        multiplier.multiply(groupWeights, columns.baseAddress!, into: groupOutput + first, ldc: outputCount,
                                                            rows: groupFilters, depth: depth, columns: positions.count)
                                    }
                                    for filter in group * groupFilters..<(group + 1) * groupFilters {
                                        let position = (image * filters + filter) * outputCount + first
                                        epilogue.finish(output.baseAddress!, filter: filter, position: position, count: positions.count)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        columns.recycle()
        return Tensor(shape: outputShape, floats: output, as: x.elementType)
    }

    /// Output positions per tile: about 256 kB of columns (whole images of the detector's first
    /// layers unrolled to 20 MB, streamed through memory twice), in whole 24-column GEMM strips so
    /// that only an image's last tile has a narrow one.
    private static func tilePositions(depth: Int) -> Int {
        let positions = CacheTile.rows(ofBytes: depth * MemoryLayout<Float>.stride, within: 256 << 10, atLeast: 72)
        return positions / Int(QF_FLOAT_STRIP_COLUMNS) * Int(QF_FLOAT_STRIP_COLUMNS)
    }

    /// im2col's columns [channels x kernel, positions.count] of one image and group: in C for 2-D
    /// windows, through the window table for other ranks.
    private static func unroll(_ input: UnsafePointer<Float>, channels: Int, positions: Range<Int>, geometry: SlidingWindow,
                               into columns: UnsafeMutablePointer<Float>) {
        if var planar = geometry.planar(channels: channels) {
            qf_im2col_f32(&planar, input, positions.lowerBound, positions.count, columns)
            return
        }
        let (inputCount, kernelCount, outputCount) = (geometry.inputSize.reduce(1, *), geometry.kernelCount, geometry.outputCount)
        geometry.inputPositions.withUnsafeBufferPointer { table in
            for channel in 0..<channels {
                let source = input + channel * inputCount
                for tap in 0..<kernelCount {
                    let row = columns + (channel * kernelCount + tap) * positions.count
                    for position in positions {
                        let at = table[tap * outputCount + position]
                        row[position - positions.lowerBound] = at >= 0 ? source[at] : 0
                    }
                }
            }
        }
    }

    /// One filter per channel: the C kernels' direct depthwise convolution, image by image (CausalConvWithState's too).
    static func depthwise(_ x: [Float], weights: [Float], bias: [Float]?, planar: qf_conv2d_geometry, batch: Int,
                          path: FloatKernelPath) -> [Float] {
        var planar = planar
        let (inputCount, outputCount) = (planar.channels * planar.height * planar.width, planar.channels * planar.out_h * planar.out_w)
        return [Float](recycledCapacity: batch * outputCount) { output, initialized in
            x.withUnsafeBufferPointer { x in
                for image in 0..<batch {
                    path.depthwise(&planar, x.baseAddress! + image * inputCount, weights, bias, output.baseAddress! + image * outputCount)
                }
            }
            initialized = batch * outputCount
        }
    }
}

extension Conv {
    /// What follows the product on each stretch of an output row: the filter's bias, FusedConv's Z
    /// and activation, in that order.
    struct Epilogue {
        let bias: [Float]?
        let addend: [Float]?
        let activation: ConvActivation?

        /// Finishes `count` consecutive outputs of one filter, from element `position` of `output`
        /// (and of Z) on; `filter` is nil where the bias is already in (the depthwise kernel adds it).
        func finish(_ output: UnsafeMutablePointer<Float>, filter: Int?, position: Int, count: Int) {
            let values = output + position
            if let bias, let filter {
                let value = bias[filter]
                for i in 0..<count { values[i] += value }
            }
            addend?.withUnsafeBufferPointer { addend in
                let source = addend.baseAddress! + position
                for i in 0..<count { values[i] += source[i] }
            }
            activation?.apply(to: values, count: count)
        }
    }
}

/// Adds bias[c] to every element of plane c of one image's [C, planeSize] output.
func addChannelBias(_ bias: [Float], to planes: UnsafeMutablePointer<Float>, planeSize: Int) {
    for (channel, value) in bias.enumerated() {
        let plane = planes + channel * planeSize
        for position in 0..<planeSize { plane[position] += value }
    }
}

extension Conv: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard inputs.count > 1, let x = inputs[0], let w = inputs[1], x.count >= 3, w.count == x.count else { return [] }
        if let channels = x[1], let perGroup = w[1], channels != perGroup * groups {
            throw InferenceError.invalidOperand("W \(StaticShapes.describe(w)) does not fit X \(StaticShapes.describe(x)) in \(groups) group(s)")
        }
        let weightKernel = w.dropFirst(2).compactMap { $0 }
        guard let kernel = weightKernel.count == x.count - 2 ? weightKernel : window.kernel else { return [[x[0], w[0]] + Array(repeating: nil, count: x.count - 2)] }
        return [try SlidingWindow.outputShape(input: x, channels: w[0], kernel: kernel, attributes: window)]
    }
}
