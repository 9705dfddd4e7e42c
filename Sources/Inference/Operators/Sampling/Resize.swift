/// Resize (opsets 10 to 19): nearest, linear and cubic interpolation (linear and cubic antialiased
/// on request) over any axes, with every coordinate transformation mode. Each resized axis is
/// resampled in its own pass (the modes are separable), from taps planned once per call: source
/// indices and weights per output position.
struct Resize: SingleOutputOperator {
    enum Mode: String { case nearest, linear, cubic }

    enum CoordinateTransformation: String {
        case halfPixel = "half_pixel", halfPixelSymmetric = "half_pixel_symmetric", pytorchHalfPixel = "pytorch_half_pixel"
        case alignCorners = "align_corners", asymmetric, tfHalfPixelForNearest = "tf_half_pixel_for_nn"
        case tfCropAndResize = "tf_crop_and_resize"
    }

    enum NearestRounding: String { case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil }

    enum AspectRatioPolicy: String { case stretch, notLarger = "not_larger", notSmaller = "not_smaller" }

    let mode: Mode
    let transformation: CoordinateTransformation
    let rounding: NearestRounding
    let cubicCoefficient: Float
    let excludeOutside: Bool
    /// Linear and cubic downsampling widen their kernel by 1 / scale (opset 18), so every input
    /// sample contributes, instead of aliasing.
    let antialias: Bool
    let extrapolationValue: Float
    let axes: [Int]?
    let aspectRatioPolicy: AspectRatioPolicy
    /// Opset 10 takes (X, scales); later opsets (X, roi, scales, sizes).
    let scalesInput: Int

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        func parsed<Value: RawRepresentable<String>>(_ name: String, default defaultValue: String) throws -> Value {
            let text = try attributes.string(name, default: defaultValue)
            guard let value = Value(rawValue: text) else {
                throw InferenceError.invalidAttribute(node: context.node.name, attribute: name, reason: "'\(text)' is not a known value")
            }
            return value
        }
        mode = try parsed("mode", default: "nearest")
        transformation = try parsed("coordinate_transformation_mode", default: context.opset < 11 ? "asymmetric" : "half_pixel")
        rounding = try parsed("nearest_mode", default: context.opset < 11 ? "floor" : "round_prefer_floor")
        aspectRatioPolicy = try parsed("keep_aspect_ratio_policy", default: "stretch")
        cubicCoefficient = try attributes.float("cubic_coeff_a", default: -0.75)
        excludeOutside = try attributes.int("exclude_outside", default: 0) != 0
        extrapolationValue = try attributes.float("extrapolation_value", default: 0)
        axes = try attributes.ints("axes")
        scalesInput = context.opset < 11 ? 1 : 2
        antialias = try attributes.int("antialias", default: 0) != 0 && mode != .nearest
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let rank = x.shape.count
        let axes = try normalizedAxes(self.axes ?? Array(0..<rank), rank: rank)
        let (outputShape, scales) = try outputGeometry(of: x.shape, axes: axes, inputs: inputs)
        let roi = try regionOfInterest(inputs, axes: axes, rank: rank)

        var shape = x.shape
        var values = try x.floatOperand("X"), ownsValues = false
        for axis in axes {
            let unchanged = outputShape[axis] == shape[axis] && scales[axis] == 1 && transformation != .tfCropAndResize
            if unchanged { continue }
            let taps = plannedTaps(inputLength: shape[axis], outputLength: outputShape[axis], scale: scales[axis], roi: roi[axis])
            let resampled = taps.resample(values, shape: shape, axis: axis)
            if ownsValues { values.recycle() }  // an earlier axis's result, not X
            (values, ownsValues) = (resampled, true)
            shape[axis] = outputShape[axis]
        }
        return Tensor(shape: shape, floats: values, as: x.elementType)
    }

    /// Output extents and the per-axis scale the coordinate transformation divides by.
    private func outputGeometry(of shape: [Int], axes: [Int], inputs: [Tensor?]) throws -> (shape: [Int], scales: [Float]) {
        var outputShape = shape
        var scales = [Float](repeating: 1, count: shape.count)
        let givenScales = inputs.optional(scalesInput).map(\.floats).flatMap { $0.isEmpty ? nil : $0 }
        let givenSizes = scalesInput == 2 ? inputs.integers(3).flatMap { $0.isEmpty ? nil : $0 } : nil
        switch (givenScales, givenSizes) {
        case (let scaleValues?, nil):
            guard scaleValues.count == axes.count, scaleValues.allSatisfy({ $0 > 0 }) else {
                throw InferenceError.invalidOperand("scales \(scaleValues) must hold one positive value per resized axis (\(axes.count))")
            }
            for (axis, scale) in zip(axes, scaleValues) {
                scales[axis] = scale
                outputShape[axis] = Int((Float(shape[axis]) * scale).rounded(.down))
            }
        case (nil, let sizes?):
            guard sizes.count == axes.count, sizes.allSatisfy({ $0 > 0 }) else {
                throw InferenceError.invalidOperand("sizes \(sizes) must hold one positive extent per resized axis (\(axes.count))")
            }
            let ratios = zip(axes, sizes).map { Float($1) / Float(shape[$0]) }
            let common: Float? = switch aspectRatioPolicy {
            case .stretch: nil
            case .notLarger: ratios.min()
            case .notSmaller: ratios.max()
            }
            for (index, axis) in axes.enumerated() {
                scales[axis] = common ?? ratios[index]
                outputShape[axis] = common.map { Int(($0 * Float(shape[axis])).rounded(.toNearestOrAwayFromZero)) } ?? sizes[index]
            }
        case (nil, nil):
            throw InferenceError.invalidOperand("one of scales and sizes must be given")
        case (_?, _?):
            throw InferenceError.invalidOperand("only one of scales and sizes may be given")
        }
        return (outputShape, scales)
    }

    /// (start, end) per axis for tf_crop_and_resize, as fractions of the input extent.
    private func regionOfInterest(_ inputs: [Tensor?], axes: [Int], rank: Int) throws -> [(start: Float, end: Float)] {
        var roi = [(start: Float, end: Float)](repeating: (0, 1), count: rank)
        guard transformation == .tfCropAndResize else { return roi }
        guard scalesInput == 2, let values = inputs.optional(1)?.floats, values.count == 2 * axes.count else {
            throw InferenceError.invalidOperand("tf_crop_and_resize needs roi with a start and an end per resized axis")
        }
        for (index, axis) in axes.enumerated() {
            roi[axis] = (values[index], values[axes.count + index])
        }
        return roi
    }

    private func sourceCoordinate(_ output: Int, inputLength: Int, outputLength: Int, scale: Float,
                                  roi: (start: Float, end: Float)) -> Float {
        let position = Float(output)
        // ONNX's reference, which onnxruntime follows, spans align_corners and crops over the
        // unrounded extent scale x input, not the integer output length.
        let extent = scale * Float(inputLength)
        switch transformation {
        case .halfPixel:
            return (position + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = Float(outputLength) / (scale * Float(inputLength))
            let offset = Float(inputLength) / 2 * (1 - adjustment)
            return offset + (position + 0.5) / scale - 0.5
        case .pytorchHalfPixel:
            return outputLength > 1 ? (position + 0.5) / scale - 0.5 : 0
        case .alignCorners:
            return extent != 1 ? position * Float(inputLength - 1) / (extent - 1) : 0
        case .asymmetric:
            return position / scale
        case .tfHalfPixelForNearest:
            return (position + 0.5) / scale
        case .tfCropAndResize:
            let span = (roi.end - roi.start) * Float(inputLength - 1)
            return extent != 1
                ? roi.start * Float(inputLength - 1) + position * span / (extent - 1)
                : 0.5 * (roi.start + roi.end) * Float(inputLength - 1)
        }
    }

    private func plannedTaps(inputLength: Int, outputLength: Int, scale: Float, roi: (start: Float, end: Float)) -> ResamplingTaps {
        if antialias { return antialiasedTaps(inputLength: inputLength, outputLength: outputLength, scale: scale, roi: roi) }
        let tapCount = switch mode { case .nearest: 1; case .linear: 2; case .cubic: 4 }
        let lastIndex = inputLength - 1
        return taps(tapCount, inputLength: inputLength, outputLength: outputLength, scale: scale, roi: roi) { first, coordinate, taps in
            switch mode {
            case .nearest:
                taps.indices[first] = min(max(nearestIndex(coordinate), 0), lastIndex)
                taps.weights[first] = 1
            case .linear:
                let clamped = min(max(coordinate, 0), Float(lastIndex))
                let floor = clamped.rounded(.down), fraction = clamped - floor
                taps.indices[first] = Int(floor)
                taps.indices[first + 1] = min(Int(floor) + 1, lastIndex)
                taps.weights[first] = 1 - fraction
                taps.weights[first + 1] = fraction
            case .cubic:
                let floor = coordinate.rounded(.down)
                let weights = cubicWeights(coordinate - floor)
                var total: Float = 0
                for tap in 0..<4 {
                    let index = Int(floor) - 1 + tap
                    let outside = index < 0 || index > lastIndex
                    taps.indices[first + tap] = min(max(index, 0), lastIndex)
                    taps.weights[first + tap] = excludeOutside && outside ? 0 : weights[tap]
                    total += taps.weights[first + tap]
                }
                if excludeOutside, total != 0 {
                    for tap in 0..<4 { taps.weights[first + tap] /= total }
                }
            }
        }
    }

    /// ONNX's antialiasing filter: the linear (triangle) or cubic kernel stretched by 1 / scale when
    /// downsampling, over the taps around the source coordinate's left neighbour (the neighbour below
    /// it, or the one before when it falls on a sample), normalised to sum to 1; taps beyond the
    /// edges repeat the edge sample, or drop out with exclude_outside.
    private func antialiasedTaps(inputLength: Int, outputLength: Int, scale: Float, roi: (start: Float, end: Float)) -> ResamplingTaps {
        let stretch = min(scale, 1), support: Float = mode == .cubic ? 2 : 1
        let start = Int((-support / stretch).rounded(.down)) + 1, tapCount = 2 - 2 * start
        let lastIndex = inputLength - 1
        return taps(tapCount, inputLength: inputLength, outputLength: outputLength, scale: scale, roi: roi) { first, coordinate, taps in
            let below = coordinate.rounded(.down)
            let left = Int(below) - (below == coordinate ? 1 : 0), ratio = coordinate - Float(left)
            var total: Float = 0
            for tap in 0..<tapCount {
                let index = left + start + tap, distance = abs((Float(start + tap) - ratio) * stretch)
                var weight = mode == .cubic ? Self.cubicKernel(distance, a: cubicCoefficient) : max(0, 1 - distance)
                if excludeOutside, index < 0 || index > lastIndex { weight = 0 }
                taps.indices[first + tap] = min(max(index, 0), lastIndex)
                taps.weights[first + tap] = weight
                total += weight
            }
            if total != 0 {
                for tap in 0..<tapCount { taps.weights[first + tap] /= total }
            }
        }
    }

    /// `tapCount` taps per output position, filled by `fill(first tap, source coordinate, &taps)`
    /// except where tf_crop_and_resize extrapolates.
    private func taps(_ tapCount: Int, inputLength: Int, outputLength: Int, scale: Float, roi: (start: Float, end: Float),
                      fill: (Int, Float, inout ResamplingTaps) -> Void) -> ResamplingTaps {
        var taps = ResamplingTaps(tapsPerOutput: tapCount, outputLength: outputLength, extrapolationValue: extrapolationValue)
        for output in 0..<outputLength {
            let coordinate = sourceCoordinate(output, inputLength: inputLength, outputLength: outputLength, scale: scale, roi: roi)
            if transformation == .tfCropAndResize, coordinate < 0 || coordinate > Float(inputLength - 1) {
                taps.extrapolated[output] = true
                continue
            }
            fill(output * tapCount, coordinate, &taps)
        }
        return taps
    }

    /// Keys' cubic kernel with coefficient `a` at distance `d` >= 0 (GridSample's cubic mode too).
    static func cubicKernel(_ d: Float, a: Float) -> Float {
        if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
        if d < 2 { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
        return 0
    }

    private func nearestIndex(_ coordinate: Float) -> Int {
        let isHalfway = coordinate - coordinate.rounded(.down) == 0.5
        switch rounding {
        case .roundPreferFloor: return Int(isHalfway ? coordinate.rounded(.down) : coordinate.rounded())
        case .roundPreferCeil: return Int(isHalfway ? coordinate.rounded(.up) : coordinate.rounded())
        case .floor: return Int(coordinate.rounded(.down))
        case .ceil: return Int(coordinate.rounded(.up))
        }
    }

    /// Keys' cubic convolution weights for the taps at distances 1 + t, t, 1 - t and 2 - t.
    private func cubicWeights(_ t: Float) -> [Float] {
        [t + 1, t, 1 - t, 2 - t].map { Self.cubicKernel($0, a: cubicCoefficient) }
    }
}

/// For each output position along one axis: its source indices and weights (or that it lies
/// outside the crop and takes the extrapolation value).
struct ResamplingTaps {
    let tapsPerOutput: Int
    var indices: [Int]
    var weights: [Float]
    var extrapolated: [Bool]
    let extrapolationValue: Float

    init(tapsPerOutput: Int, outputLength: Int, extrapolationValue: Float) {
        self.tapsPerOutput = tapsPerOutput
        indices = [Int](repeating: 0, count: tapsPerOutput * outputLength)
        weights = [Float](repeating: 0, count: tapsPerOutput * outputLength)
        extrapolated = [Bool](repeating: false, count: outputLength)
        self.extrapolationValue = extrapolationValue
    }

    /// `values` (row-major over `shape`) resampled along `axis`.
    func resample(_ values: [Float], shape: [Int], axis: Int) -> [Float] {
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let (inputLength, outputLength) = (shape[axis], extrapolated.count)
        if tapsPerOutput == 1, !extrapolated.contains(true), weights.allSatisfy({ $0 == 1 }) {
            return gathered(values, outer: outer, inputLength: inputLength, inner: inner)
        }
        var result = [Float](recycledRepeating: 0, count: outer * outputLength * inner)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for block in 0..<outer {
                    let sourceBlock = block * inputLength * inner, targetBlock = block * outputLength * inner
                    if inner == 1 {
                        // Along the last axis: one sum per output element, kept in a register.
                        for output in 0..<outputLength {
                            var sum: Float = extrapolated[output] ? extrapolationValue : 0
                            if !extrapolated[output] {
                                for tap in (output * tapsPerOutput)..<((output + 1) * tapsPerOutput) where weights[tap] != 0 {
                                    sum += weights[tap] * source[sourceBlock + indices[tap]]
                                }
                            }
                            target[targetBlock + output] = sum
                        }
                        continue
                    }
                    for output in 0..<outputLength {
                        let row = targetBlock + output * inner
                        if extrapolated[output] {
                            for element in 0..<inner { target[row + element] = extrapolationValue }
                            continue
                        }
                        for tap in (output * tapsPerOutput)..<((output + 1) * tapsPerOutput) {
                            let (from, weight) = (sourceBlock + indices[tap] * inner, weights[tap])
                            if weight == 0 { continue }
                            for element in 0..<inner { target[row + element] += weight * source[from + element] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Nearest neighbour: each output copies its one source element (or, above the last axis, row).
    /// 10x faster than the weighted sum, which the feature-pyramid upsampling of detectors runs on.
    private func gathered(_ values: [Float], outer: Int, inputLength: Int, inner: Int) -> [Float] {
        let outputLength = extrapolated.count
        return [Float](recycledCapacity: outer * outputLength * inner) { target, initialized in
            values.withUnsafeBufferPointer { source in
                indices.withUnsafeBufferPointer { indices in
                    for block in 0..<outer {
                        let from = source.baseAddress! + block * inputLength * inner
                        let to = target.baseAddress! + block * outputLength * inner
                        if inner == 1 {
                            for output in 0..<outputLength { to[output] = from[indices[output]] }
                        } else {
                            for output in 0..<outputLength {
                                (to + output * inner).initialize(from: from + indices[output] * inner, count: inner)
                            }
                        }
                    }
                }
            }
            initialized = outer * outputLength * inner
        }
    }
}
