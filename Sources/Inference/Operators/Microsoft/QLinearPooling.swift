/// QLinearGlobalAveragePool and QLinearAveragePool (com.microsoft) on uint8 or int8 X [N, C,
/// spatial...] (or [N, spatial..., C] with channels_last), per-tensor scales and zero points,
/// computed as onnxruntime computes them:
///   global (and a window that covers the whole unpadded image): the integer sum of each plane
///     less its zero points, times x_scale / (y_scale x size) in FP32, rounded half to even, plus
///     y_zero_point, saturated;
///   windows: each level dequantized, the window averaged in FP32 (by the kernel's size with
///     count_include_pad, else by the positions inside the input), then round(avg / y_scale +
///     y_zero_point) saturated: the zero point added before rounding, unlike QuantizeLinear.
struct QLinearPooling: SingleOutputOperator {
    /// nil: the global pool.
    private let window: (attributes: SlidingWindow.Attributes, kernel: [Int], countsPadding: Bool)?
    private let channelsLast: Bool
    private let geometries = ShapeKeyedCache<SlidingWindow>()

    init(_ context: OperatorContext, global: Bool) throws {
        channelsLast = try context.attributes.int("channels_last", default: 0) != 0
        guard !global else {
            window = nil
            return
        }
        let attributes = try SlidingWindow.Attributes(context)
        guard let kernel = attributes.kernel else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "kernel_shape", reason: "is required")
        }
        guard attributes.dilations == nil else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "dilations", reason: "is not an attribute of QLinearAveragePool")
        }
        window = (attributes, kernel, try context.attributes.int("count_include_pad", default: 0) != 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let input = try inputs.required(0)
        guard input.shape.count >= 3 else { throw InferenceError.invalidOperand("X must be [N, C, spatial...], got \(input.shape)") }
        let type = input.elementType
        let x = channelsLast ? Transpose.permuted(input, by: Self.channelsFirst(rank: input.shape.count)) : input
        let levels = try QLinearOperands.levels(x, role: "X")
        let (xScale, xZero) = try QLinearOperands.parameters(inputs, scale: 1, zeroPoint: 2, type: type, role: "X")
        let (yScale, yZero) = try QLinearOperands.parameters(inputs, scale: 3, zeroPoint: 4, type: type, role: "Y")
        let range = QLinearOperands.range(of: type)
        let planes = x.shape[0] * x.shape[1], imageSize = x.shape.dropFirst(2).reduce(1, *)
        let spatial = Array(x.shape.dropFirst(2))
        let output: Tensor
        if let window, !Self.coversImage(spatial, window.kernel, window.attributes) {
            let geometry = try geometries.geometry(inputShape: x.shape, kernel: window.kernel, attributes: window.attributes)
            let values = levels.map { xScale * Float($0 - xZero) }
            let (kernelCount, outputCount, table) = (geometry.kernelCount, geometry.outputCount, geometry.inputPositions)
            var pooled = [Int32](repeating: 0, count: planes * outputCount)
            for plane in 0..<planes {
                let base = plane * imageSize
                for position in 0..<outputCount {
                    var total: Float = 0, inside = 0
                    for tap in 0..<kernelCount where table[tap * outputCount + position] >= 0 {
                        total += values[base + table[tap * outputCount + position]]
                        inside += 1
                    }
                    let average = total / Float(window.countsPadding ? kernelCount : inside)
                    pooled[plane * outputCount + position] = QLinearOperands.saturated(average / yScale + Float(yZero), to: range)
                }
            }
            output = QLinearOperands.tensor(shape: Array(x.shape.prefix(2)) + geometry.outputSize, levels: pooled, type: type)
        } else {
            let scale = xScale / (yScale * Float(imageSize)), bias = -xZero * Int32(imageSize)
            let pooled = (0..<planes).map { plane in
                let sum = levels[(plane * imageSize)..<((plane + 1) * imageSize)].reduce(bias, +)
                return QLinearOperands.saturated((Float(sum) * scale).rounded(.toNearestOrEven) + Float(yZero), to: range)
            }
            output = QLinearOperands.tensor(shape: Array(x.shape.prefix(2)) + spatial.map { _ in 1 }, levels: pooled, type: type)
        }
        return channelsLast ? Transpose.permuted(output, by: Self.channelsLast(rank: output.shape.count)) : output
    }

    /// onnxruntime pools a window as large as the image, with no pads, as the global pool.
    private static func coversImage(_ spatial: [Int], _ kernel: [Int], _ attributes: SlidingWindow.Attributes) -> Bool {
        guard kernel == spatial, let placement = try? SlidingWindow.placement(inputSize: spatial, kernel: kernel, attributes: attributes) else {
            return false
        }
        return (placement.padsBegin + placement.padsEnd).allSatisfy { $0 == 0 }
    }

    /// [N, spatial..., C] to [N, C, spatial...].
    private static func channelsFirst(rank: Int) -> [Int] { [0, rank - 1] + Array(1..<(rank - 1)) }

    /// [N, C, spatial...] to [N, spatial..., C].
    private static func channelsLast(rank: Int) -> [Int] { [0] + Array(2..<rank) + [1] }
}

extension QLinearPooling: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let input = inputs.first ?? nil, input.count >= 3 else { return [] }
        let x = channelsLast ? Self.channelsFirst(rank: input.count).map { input[$0] } : input
        let pooled: StaticShape = if let window {
            try SlidingWindow.outputShape(input: x, channels: x[1], kernel: window.kernel, attributes: window.attributes)
        } else {
            Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)
        }
        return [channelsLast ? Self.channelsLast(rank: pooled.count).map { pooled[$0] } : pooled]
    }
}
