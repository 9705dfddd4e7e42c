/// RoiAlign (opsets 10, 16, 22): each region of interest (x1, y1, x2, y2 in input coordinates times
/// spatial_scale) of the feature map its batch index names, divided into output_height x
/// output_width bins, each bin the average (or maximum) of a grid of bilinearly interpolated samples
/// (sampling_ratio per side, or as many as the bin is wide). half_pixel (the default from opset 16)
/// shifts regions by half a pixel; output_half_pixel (opset 10's only behaviour) does not, and
/// stretches regions smaller than a pixel to one.
struct RoiAlign: SingleOutputOperator {
    private let averages: Bool
    private let halfPixel: Bool
    private let outputHeight: Int, outputWidth: Int
    /// 0: adapt to each region's size.
    private let samplingRatio: Int
    private let spatialScale: Float

    init(_ context: OperatorContext) throws {
        let node = context.node.name, attributes = context.attributes
        let mode = try attributes.string("mode", default: "avg")
        guard mode == "avg" || mode == "max" else {
            throw InferenceError.invalidAttribute(node: node, attribute: "mode", reason: "must be avg or max, got '\(mode)'")
        }
        averages = mode == "avg"
        let transformation = try attributes.string("coordinate_transformation_mode", default: context.opset < 16 ? "output_half_pixel" : "half_pixel")
        guard transformation == "half_pixel" || transformation == "output_half_pixel" else {
            throw InferenceError.invalidAttribute(node: node, attribute: "coordinate_transformation_mode",
                                                  reason: "must be half_pixel or output_half_pixel, got '\(transformation)'")
        }
        halfPixel = transformation == "half_pixel"
        outputHeight = try attributes.int("output_height", default: 1)
        outputWidth = try attributes.int("output_width", default: 1)
        samplingRatio = try attributes.int("sampling_ratio", default: 0)
        spatialScale = try attributes.float("spatial_scale", default: 1)
        for (name, value, least) in [("output_height", outputHeight, 1), ("output_width", outputWidth, 1), ("sampling_ratio", samplingRatio, 0)]
        where value < least {
            throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be at least \(least), got \(value)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), rois = try inputs.required(1), batchIndices = try inputs.required(2).int64s
        guard x.shape.count == 4, rois.shape.count == 2, rois.shape[1] == 4, batchIndices.count == rois.shape[0] else {
            throw InferenceError.invalidOperand("X \(x.shape) must be [N, C, H, W], rois \(rois.shape) [R, 4] and batch_indices hold R values")
        }
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let input = try x.floatOperand("X"), corners = try rois.floatOperand("rois")
        let binCount = outputHeight * outputWidth
        var output = [Float](repeating: 0, count: rois.shape[0] * channels * binCount)
        for roi in batchIndices.indices {
            let batch = Int(batchIndices[roi])
            guard (0..<x.shape[0]).contains(batch) else {
                throw InferenceError.invalidOperand("batch index \(batch) of region \(roi) is outside X's \(x.shape[0]) batches")
            }
            let bins = samplingBins(corners[(roi * 4)..<(roi * 4 + 4)].map { $0 }, height: height, width: width)
            for channel in 0..<channels {
                let plane = (batch * channels + channel) * height * width, outputStart = (roi * channels + channel) * binCount
                for (bin, samples) in bins.enumerated() {
                    output[outputStart + bin] = pooled(samples.map { taps in taps.map { $0.weight * input[plane + $0.position] } })
                }
            }
        }
        return Tensor(shape: [rois.shape[0], channels, outputHeight, outputWidth], floats: output, as: x.elementType)
    }

    /// Average: the mean of the bilinear samples. Max: the largest weighted tap over all samples, as
    /// onnxruntime (the reference) takes it, rather than the largest interpolated value.
    private func pooled(_ weightedTaps: [[Float]]) -> Float {
        if averages { return weightedTaps.reduce(0) { $0 + $1.reduce(0, +) } / Float(max(weightedTaps.count, 1)) }
        return weightedTaps.map { $0.max() ?? 0 }.max() ?? 0
    }

    /// For each bin (row-major), its samples, each the four bilinear taps (position in the plane,
    /// weight); a sample more than a pixel outside the map has four taps of weight 0.
    private func samplingBins(_ roi: [Float], height: Int, width: Int) -> [[[(position: Int, weight: Float)]]] {
        let offset: Float = halfPixel ? 0.5 : 0
        let (startX, startY) = (roi[0] * spatialScale - offset, roi[1] * spatialScale - offset)
        var (roiWidth, roiHeight) = (roi[2] * spatialScale - offset - startX, roi[3] * spatialScale - offset - startY)
        if !halfPixel { (roiWidth, roiHeight) = (max(roiWidth, 1), max(roiHeight, 1)) }
        let (binHeight, binWidth) = (roiHeight / Float(outputHeight), roiWidth / Float(outputWidth))
        let samplesY = samplingRatio > 0 ? samplingRatio : Int(binHeight.rounded(.up))
        let samplesX = samplingRatio > 0 ? samplingRatio : Int(binWidth.rounded(.up))
        var bins: [[[(position: Int, weight: Float)]]] = []
        for binY in 0..<outputHeight {
            for binX in 0..<outputWidth {
                var samples: [[(position: Int, weight: Float)]] = []
                for sampleY in 0..<samplesY {
                    let y = startY + Float(binY) * binHeight + (Float(sampleY) + 0.5) * binHeight / Float(samplesY)
                    for sampleX in 0..<samplesX {
                        let x = startX + Float(binX) * binWidth + (Float(sampleX) + 0.5) * binWidth / Float(samplesX)
                        samples.append(Self.bilinearTaps(y: y, x: x, height: height, width: width))
                    }
                }
                bins.append(samples)
            }
        }
        return bins
    }

    private static func bilinearTaps(y: Float, x: Float, height: Int, width: Int) -> [(position: Int, weight: Float)] {
        guard y >= -1, y <= Float(height), x >= -1, x <= Float(width) else { return Array(repeating: (0, 0), count: 4) }
        let (low: yLow, high: yHigh, fraction: ly) = neighbours(max(y, 0), length: height)
        let (low: xLow, high: xHigh, fraction: lx) = neighbours(max(x, 0), length: width)
        return [(yLow * width + xLow, (1 - ly) * (1 - lx)), (yLow * width + xHigh, (1 - ly) * lx),
                (yHigh * width + xLow, ly * (1 - lx)), (yHigh * width + xHigh, ly * lx)]
    }

    /// The two elements around `coordinate` (>= 0) and its distance past the lower; beyond the last
    /// element both are the last.
    private static func neighbours(_ coordinate: Float, length: Int) -> (low: Int, high: Int, fraction: Float) {
        let low = Int(coordinate)
        if low >= length - 1 { return (length - 1, length - 1, 0) }
        return (low, low + 1, coordinate - Float(low))
    }
}
