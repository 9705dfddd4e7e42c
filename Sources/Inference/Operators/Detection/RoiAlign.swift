/// RoiAlign (opsets 10, 16, 22): each region of interest (x1, y1, x2, y2 in input coordinates times
/// spatial_scale) of the feature map its batch index names, divided into output_height x
/// output_width bins, each bin the average (or maximum) of a grid of bilinearly interpolated samples
/// (sampling_ratio per side, or as many as the bin is wide). half_pixel (the default from opset 16)
/// shifts regions by half a pixel; output_half_pixel (opset 10's only behaviour) does not, and
/// stretches regions smaller than a pixel to one.
struct RoiAlign: SingleOutputOperator {
    /// An element of a feature map plane that a sample reads, and its bilinear weight.
    private typealias Tap = (position: Int, weight: Float)

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
        let transformation = try attributes.string("coordinate_transformation_mode",
                                                   default: context.opset < 16 ? "output_half_pixel" : "half_pixel")
        guard transformation == "half_pixel" || transformation == "output_half_pixel" else {
            throw InferenceError.invalidAttribute(node: node, attribute: "coordinate_transformation_mode",
                                                  reason: "must be half_pixel or output_half_pixel, got '\(transformation)'")
        }
        halfPixel = transformation == "half_pixel"
        outputHeight = try attributes.int("output_height", default: 1)
        outputWidth = try attributes.int("output_width", default: 1)
        samplingRatio = try attributes.int("sampling_ratio", default: 0)
        spatialScale = try attributes.float("spatial_scale", default: 1)
        let bounded = [("output_height", outputHeight, 1), ("output_width", outputWidth, 1), ("sampling_ratio", samplingRatio, 0)]
        for (name, value, least) in bounded where value < least {
            throw InferenceError.invalidAttribute(node: node, attribute: name, reason: "must be at least \(least), got \(value)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), rois = try inputs.required(1), batchIndices = try inputs.required(2).int64s
        guard x.shape.count == 4, x.shape[2] > 0, x.shape[3] > 0, rois.shape.count == 2, rois.shape[1] == 4,
              batchIndices.count == rois.shape[0] else {
            throw InferenceError.invalidOperand(
                "X \(x.shape) must be [N, C, H, W] with H, W > 0, rois \(rois.shape) [R, 4] and batch_indices hold R values")
        }
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let input = try x.floatOperand("X"), corners = try rois.floatOperand("rois")
        guard corners.allSatisfy(\.isFinite) else { throw InferenceError.invalidOperand("rois must be finite") }
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
                for (bin, taps) in bins.enumerated() {
                    output[outputStart + bin] = pooled(taps) { input[plane + $0] }
                }
            }
        }
        return Tensor(shape: [rois.shape[0], channels, outputHeight, outputWidth], floats: output, as: x.elementType)
    }

    /// Average: the mean of the bin's bilinear samples. Max: its largest weighted tap, as onnxruntime
    /// (the reference) takes it, rather than its largest interpolated sample. A bin without samples is 0.
    private func pooled(_ taps: [Tap], reading value: (Int) -> Float) -> Float {
        guard !taps.isEmpty else { return 0 }
        if averages {
            var sum: Float = 0
            for tap in taps { sum += tap.weight * value(tap.position) }
            return sum / Float(taps.count / 4)
        }
        var largest = -Float.infinity
        for tap in taps { largest = max(largest, tap.weight * value(tap.position)) }
        return largest
    }

    /// For each bin (row-major), the four bilinear taps of each of its samples; a sample more than a
    /// pixel outside the map has four taps of weight 0.
    private func samplingBins(_ roi: [Float], height: Int, width: Int) -> [[Tap]] {
        let offset: Float = halfPixel ? 0.5 : 0
        let (startX, startY) = (roi[0] * spatialScale - offset, roi[1] * spatialScale - offset)
        var (roiWidth, roiHeight) = (roi[2] * spatialScale - offset - startX, roi[3] * spatialScale - offset - startY)
        if !halfPixel { (roiWidth, roiHeight) = (max(roiWidth, 1), max(roiHeight, 1)) }
        let (binHeight, binWidth) = (roiHeight / Float(outputHeight), roiWidth / Float(outputWidth))
        // A reversed region (half_pixel keeps it) has no samples.
        let samplesY = samplingRatio > 0 ? samplingRatio : max(0, Int(binHeight.rounded(.up)))
        let samplesX = samplingRatio > 0 ? samplingRatio : max(0, Int(binWidth.rounded(.up)))
        var bins: [[Tap]] = []
        for binY in 0..<outputHeight {
            for binX in 0..<outputWidth {
                var taps: [Tap] = []
                for sampleY in 0..<samplesY {
                    let y = startY + Float(binY) * binHeight + (Float(sampleY) + 0.5) * binHeight / Float(samplesY)
                    for sampleX in 0..<samplesX {
                        let x = startX + Float(binX) * binWidth + (Float(sampleX) + 0.5) * binWidth / Float(samplesX)
                        taps += Self.bilinearTaps(y: y, x: x, height: height, width: width)
                    }
                }
                bins.append(taps)
            }
        }
        return bins
    }

    private static func bilinearTaps(y: Float, x: Float, height: Int, width: Int) -> [Tap] {
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
