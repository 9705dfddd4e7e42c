import CQuantKernels

/// Float convolution over 1 to 3 spatial dimensions with groups, strides, dilations, pads and
/// auto_pad: each group's input is unrolled (im2col) into a [C/group x kernel, output] matrix and
/// multiplied by the group's weights [M/group, C/group x kernel] on the float GEMM.
struct Conv: Operator {
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

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0), w = try inputs.required(1)
        guard x.shape.count >= 3, w.shape.count == x.shape.count else {
            throw InferenceError.invalidOperand("X \(x.shape) and W \(w.shape) must both be [N, C, spatial...] of one rank >= 3")
        }
        let (batch, channels, filters) = (x.shape[0], x.shape[1], w.shape[0])
        guard channels % groups == 0, filters % groups == 0, w.shape[1] == channels / groups else {
            throw InferenceError.invalidOperand("W \(w.shape) does not fit X \(x.shape) in \(groups) group(s)")
        }
        let kernel = Array(w.shape.dropFirst(2))
        if let declared = window.kernel, declared != kernel {
            throw InferenceError.invalidOperand("kernel_shape \(declared) differs from W's spatial shape \(kernel)")
        }
        let geometry = try geometries.geometry(inputSize: Array(x.shape.dropFirst(2)), kernel: kernel, attributes: window)
        let bias = try inputs.optional(2).map { try $0.floatOperand("B") }
        guard bias.map({ $0.count == filters }) ?? true else { throw InferenceError.invalidOperand("B must hold \(filters) values") }

        let xValues = try x.floatOperand("X"), weights = try w.floatOperand("W")
        if groups == channels, filters == channels, let planar = geometry.planar(channels: channels) {
            return [Tensor(shape: [batch, filters] + geometry.outputSize,
                           floats: depthwise(xValues, weights: weights, bias: bias, planar: planar, batch: batch), as: x.elementType)]
        }
        let (groupChannels, groupFilters) = (channels / groups, filters / groups)
        let (inputCount, kernelCount, outputCount) = (geometry.inputSize.reduce(1, *), geometry.kernelCount, geometry.outputCount)
        let depth = groupChannels * kernelCount
        // Neither buffer needs zeros: im2col writes every column entry, each product every output; a
        // 1x1 window multiplies the input itself and needs no columns at all.
        var columns = [Float](recycledCapacity: geometry.isIdentity ? 0 : depth * outputCount) { $1 = $0.count }
        var output = [Float](recycledCapacity: batch * filters * outputCount) { $1 = $0.count }
        let table = geometry.inputPositions
        xValues.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                columns.withUnsafeMutableBufferPointer { columns in
                    output.withUnsafeMutableBufferPointer { output in
                        for image in 0..<batch {
                            for group in 0..<groups {
                                let firstChannel = image * channels + group * groupChannels
                                let firstFilter = image * filters + group * groupFilters
                                if geometry.isIdentity {
                                    // A 1x1, stride-1, unpadded window: the input already is the column matrix.
                                    multiplier.multiply(w.baseAddress! + group * groupFilters * depth, x.baseAddress! + firstChannel * inputCount,
                                                        into: output.baseAddress! + firstFilter * outputCount,
                                                        rows: groupFilters, depth: depth, columns: outputCount)
                                    continue
                                }
                                if var planar = geometry.planar(channels: groupChannels) {
                                    qf_im2col_f32(&planar, x.baseAddress! + firstChannel * inputCount, columns.baseAddress!)
                                } else {
                                    for channel in 0..<groupChannels {
                                        let source = x.baseAddress! + (firstChannel + channel) * inputCount
                                        for entry in 0..<(kernelCount * outputCount) {
                                            let position = table[entry]
                                            columns[channel * kernelCount * outputCount + entry] = position >= 0 ? source[position] : 0
                                        }
                                    }
                                }
                                multiplier.multiply(w.baseAddress! + group * groupFilters * depth, columns.baseAddress!,
                                                    into: output.baseAddress! + firstFilter * outputCount,
                                                    rows: groupFilters, depth: depth, columns: outputCount)
                            }
                            if let bias { addChannelBias(bias, to: output.baseAddress! + image * filters * outputCount, planeSize: outputCount) }
                        }
                    }
                }
            }
        }
        columns.recycle()
        return [Tensor(shape: [batch, filters] + geometry.outputSize, floats: output, as: x.elementType)]
    }

    /// One filter per channel: the C kernels' direct depthwise convolution, image by image.
    private func depthwise(_ x: [Float], weights: [Float], bias: [Float]?, planar: qf_conv2d_geometry, batch: Int) -> [Float] {
        var planar = planar
        let (inputCount, outputCount) = (planar.channels * planar.height * planar.width, planar.channels * planar.out_h * planar.out_w)
        return [Float](recycledCapacity: batch * outputCount) { output, initialized in
            x.withUnsafeBufferPointer { x in
                for image in 0..<batch {
                    multiplier.path.depthwise(&planar, x.baseAddress! + image * inputCount, weights, bias, output.baseAddress! + image * outputCount)
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
