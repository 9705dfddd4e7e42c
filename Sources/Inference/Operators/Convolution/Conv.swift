import CQuantKernels

/// Float convolution over 1 to 3 spatial dimensions with groups, strides, dilations, pads and
/// auto_pad: each group's input is unrolled (im2col) into a [C/group x kernel, output] matrix and
/// multiplied by the group's weights [M/group, C/group x kernel] on the float GEMM.
struct Conv: SingleOutputOperator {
    let window: SlidingWindow.Attributes
    let groups: Int
    private let multiplier: MatrixMultiplier
    private let geometries = ShapeKeyedCache<SlidingWindow>()

    init(_ context: OperatorContext) throws {
        multiplier = context.multiplier
        window = try SlidingWindow.Attributes(context)
        groups = try context.attributes.int("group", default: 1)
        guard groups > 0 else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "group", reason: "must be positive") }
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
        if groups == channels, filters == channels, let planar = geometry.planar(channels: channels) {
            return Tensor(shape: [batch, filters] + geometry.outputSize,
                          floats: Self.depthwise(xValues, weights: weights, bias: bias, planar: planar, batch: batch, path: multiplier.path),
                          as: x.elementType)
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
                                if geometry.isIdentity {
                                    // A 1x1, stride-1, unpadded window: the input already is the column matrix.
                                    multiplier.multiply(groupWeights, input, into: groupOutput, rows: groupFilters, depth: depth, columns: outputCount)
                                    continue
                                }
                                // A tile of positions at a time, so that its columns stay in cache for the product.
                                for first in stride(from: 0, to: outputCount, by: tile) {
                                    let positions = first..<min(first + tile, outputCount)
                                    Self.unroll(input, channels: groupChannels, positions: positions, geometry: geometry, into: columns.baseAddress!)
                                    multiplier.multiply(groupWeights, columns.baseAddress!, into: groupOutput + first, ldc: outputCount,
                                                        rows: groupFilters, depth: depth, columns: positions.count)
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

    /// Output positions per tile: about 256 kB of columns (whole images of the detector's first
    /// layers unrolled to 20 MB, streamed through memory twice).
    private static func tilePositions(depth: Int) -> Int {
        CacheTile.rows(ofBytes: depth * MemoryLayout<Float>.stride, within: 256 << 10, atLeast: 64)
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
