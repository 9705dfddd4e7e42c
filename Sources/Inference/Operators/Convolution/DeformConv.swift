/// DeformConv (opsets 19, 22): a 2-D convolution whose every kernel tap reads X at its window
/// place moved by a fractional offset of its own, interpolated bilinearly (zeros outside X), and
/// scaled by an optional mask. The channels form offset_group groups, each with its own offsets and
/// mask; `group` splits the weights as in Conv. Each image and group's sampled taps make im2col's
/// columns [C/group x kernel, output], which multiply the group's weights on the float GEMM.
struct DeformConv: SingleOutputOperator {
    let window: SlidingWindow.Attributes
    let groups: Int
    let offsetGroups: Int
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) throws {
        multiplier = context.multiplier
        window = try SlidingWindow.Attributes(context)
        groups = try context.attributes.int("group", default: 1)
        offsetGroups = try context.attributes.int("offset_group", default: 1)
        for (name, value) in [("group", groups), ("offset_group", offsetGroups)] where value <= 0 {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: name, reason: "must be positive, got \(value)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), w = try inputs.required(1), offset = try inputs.required(2)
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw InferenceError.invalidOperand("DeformConv takes 2-D images: X \(x.shape) and W \(w.shape) must both be [N, C, H, W]")
        }
        let (batch, channels, filters) = (x.shape[0], x.shape[1], w.shape[0])
        guard channels % groups == 0, filters % groups == 0, w.shape[1] == channels / groups, channels % offsetGroups == 0 else {
            throw InferenceError.invalidOperand("W \(w.shape) does not fit X \(x.shape) in \(groups) group(s) and \(offsetGroups) offset group(s)")
        }
        let kernel = Array(w.shape[2...])
        if let declared = window.kernel, declared != kernel {
            throw InferenceError.invalidOperand("kernel_shape \(declared) differs from W's spatial shape \(kernel)")
        }
        let geometry = try SlidingWindow(inputSize: Array(x.shape[2...]), kernel: kernel, attributes: window)
        let taps = offsetGroups * geometry.kernelCount
        guard offset.shape == [batch, taps * 2] + geometry.outputSize else {
            throw InferenceError.invalidOperand("offset must be \([batch, taps * 2] + geometry.outputSize) (a y and an x per tap of each offset group), got \(offset.shape)")
        }
        let mask = inputs.optional(4)
        if let mask, mask.shape != [batch, taps] + geometry.outputSize {
            throw InferenceError.invalidOperand("mask must be \([batch, taps] + geometry.outputSize), got \(mask.shape)")
        }
        let bias = try inputs.optional(3).map { try $0.floatOperand("B") }
        guard bias.map({ $0.count == filters }) ?? true else { throw InferenceError.invalidOperand("B must hold \(filters) values") }

        let sampler = DeformedSampler(geometry: geometry, offsets: try offset.floatOperand("offset"), masks: try mask?.floatOperand("mask"),
                                      channelsPerOffsetGroup: channels / offsetGroups)
        let xValues = try x.floatOperand("X"), weights = try w.floatOperand("W")
        let (groupChannels, groupFilters, outputCount) = (channels / groups, filters / groups, geometry.outputCount)
        let depth = groupChannels * geometry.kernelCount
        // Neither buffer needs zeros: the sampler writes every column entry, each product every output.
        var columns = [Float](recycledUnwritten: depth * outputCount)
        var output = [Float](recycledUnwritten: batch * filters * outputCount)
        xValues.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                columns.withUnsafeMutableBufferPointer { columns in
                    output.withUnsafeMutableBufferPointer { output in
                        for image in 0..<batch {
                            for group in 0..<groups {
                                sampler.unroll(x.baseAddress!, image: image, channels: group * groupChannels..<(group + 1) * groupChannels,
                                               of: channels, into: columns.baseAddress!)
                                multiplier.multiply(w.baseAddress! + group * groupFilters * depth, columns.baseAddress!,
                                                    into: output.baseAddress! + (image * filters + group * groupFilters) * outputCount,
                                                    rows: groupFilters, depth: depth, columns: outputCount)
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

/// Where each tap of a deformable window reads, and how it interpolates there.
private struct DeformedSampler {
    let geometry: SlidingWindow
    /// [N, offset groups, kernel taps, (y, x), output positions]
    let offsets: [Float]
    /// [N, offset groups, kernel taps, output positions]; nil scales every sample by 1.
    let masks: [Float]?
    let channelsPerOffsetGroup: Int

    /// The deformed im2col columns [channels x kernel taps, output positions] of one image's
    /// `channels` (of `channelCount`): each tap's sample at its window place plus its offset, times its mask.
    func unroll(_ x: UnsafePointer<Float>, image: Int, channels: Range<Int>, of channelCount: Int, into columns: UnsafeMutablePointer<Float>) {
        let (height, width) = (geometry.inputSize[0], geometry.inputSize[1])
        let (outputWidth, outputCount, kernelCount) = (geometry.outputSize[1], geometry.outputCount, geometry.kernelCount)
        let offsetGroups = channelCount / channelsPerOffsetGroup
        for (row, channel) in channels.enumerated() {
            let plane = x + (image * channelCount + channel) * height * width
            let tapBase = (image * offsetGroups + channel / channelsPerOffsetGroup) * kernelCount
            for tap in 0..<kernelCount {
                let (kernelY, kernelX) = (tap / geometry.kernel[1], tap % geometry.kernel[1])
                let (offsetY, offsetX) = ((tapBase + tap) * 2 * outputCount, ((tapBase + tap) * 2 + 1) * outputCount)
                let column = columns + (row * kernelCount + tap) * outputCount
                for position in 0..<outputCount {
                    let (outputY, outputX) = (position / outputWidth, position % outputWidth)
                    let y = Float(outputY * geometry.strides[0] - geometry.padsBegin[0] + kernelY * geometry.dilations[0]) + offsets[offsetY + position]
                    let x = Float(outputX * geometry.strides[1] - geometry.padsBegin[1] + kernelX * geometry.dilations[1]) + offsets[offsetX + position]
                    let scale = masks?[(tapBase + tap) * outputCount + position] ?? 1
                    column[position] = scale * Self.bilinear(plane, height: height, width: width, y: y, x: x)
                }
            }
        }
    }

    /// The plane at fractional (y, x) from its four neighbours, those outside the plane reading 0:
    /// GridSample's zeros padding with aligned corners, through which onnx's reference samples.
    private static func bilinear(_ plane: UnsafePointer<Float>, height: Int, width: Int, y: Float, x: Float) -> Float {
        // Also refuses NaN, and keeps the coordinates in Int's range.
        guard y > -1, y < Float(height), x > -1, x < Float(width) else { return 0 }
        let (top, left) = (y.rounded(.down), x.rounded(.down))
        let (down, right) = (y - top, x - left)
        let (row, column) = (Int(top), Int(left))
        func at(_ row: Int, _ column: Int) -> Float {
            (0..<height).contains(row) && (0..<width).contains(column) ? plane[row * width + column] : 0
        }
        return (1 - down) * ((1 - right) * at(row, column) + right * at(row, column + 1))
            + down * ((1 - right) * at(row + 1, column) + right * at(row + 1, column + 1))
    }
}
