/// BatchNormalization over channel axis 1: y = scale * (x - mean) / sqrt(var + epsilon) + bias. In
/// inference mode mean and var are the given running statistics. In training mode (opset 14 on)
/// they are the batch's own, and the outputs add the running statistics updated by momentum.
struct BatchNormalization: Operator, ShapePreserving {
    let epsilon: Float
    let momentum: Float
    let usesBatchStatistics: Bool

    init(_ context: OperatorContext) throws {
        epsilon = try context.attributes.float("epsilon", default: 1e-5)
        momentum = try context.attributes.float("momentum", default: 0.9)
        usesBatchStatistics = try context.attributes.int("training_mode", default: 0) != 0
        if !usesBatchStatistics, context.node.outputs.count > 1 {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "training_mode",
                                                  reason: "is 0 but running statistics are requested; the pre-opset-14 training outputs are not supported")
        }
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        guard x.shape.count >= 2 else { throw InferenceError.invalidOperand("X must be [N, C, ...], got \(x.shape)") }
        let channels = x.shape[1]
        let parameters = try (1...4).map { index in
            let values = try inputs.required(index).floats
            guard values.count == channels else { throw InferenceError.invalidOperand("input \(index) must hold \(channels) values") }
            return values
        }
        let (scale, bias) = (parameters[0], parameters[1])
        let inner = x.shape.dropFirst(2).reduce(1, *)
        let input = try x.floatOperand("X")
        let (mean, variance) = usesBatchStatistics ? Self.statistics(input, channels: channels, inner: inner) : (parameters[2], parameters[3])
        let multipliers = (0..<channels).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        let offsets = (0..<channels).map { bias[$0] - mean[$0] * multipliers[$0] }
        // Channel plane by channel plane: no division per element, and the inner loop vectorises.
        let values = [Float](recycledCapacity: input.count) { output, written in
            input.withUnsafeBufferPointer { input in
                for plane in 0..<(inner == 0 ? 0 : input.count / inner) {
                    let (multiplier, offset) = (multipliers[plane % channels], offsets[plane % channels])
                    let source = input.baseAddress! + plane * inner, target = output.baseAddress! + plane * inner
                    for index in 0..<inner { target[index] = source[index] * multiplier + offset }
                }
            }
            written = input.count
        }
        outputs.append(Tensor(shape: x.shape, floats: values, as: x.elementType))
        guard usesBatchStatistics else { return }
        for (running, batch) in [(parameters[2], mean), (parameters[3], variance)] {
            let updated = (0..<channels).map { running[$0] * momentum + batch[$0] * (1 - momentum) }
            outputs.append(Tensor(shape: [channels], floats: updated, as: try inputs.required(3).elementType))
        }
    }

    /// Each channel's mean and (population) variance over the batch and spatial positions.
    private static func statistics(_ input: [Float], channels: Int, inner: Int) -> (mean: [Float], variance: [Float]) {
        var sums = [Double](repeating: 0, count: channels), squares = sums
        for plane in 0..<(inner == 0 ? 0 : input.count / inner) {
            for value in input[(plane * inner)..<((plane + 1) * inner)] {
                sums[plane % channels] += Double(value)
                squares[plane % channels] += Double(value) * Double(value)
            }
        }
        let count = Double(max(input.count / max(channels, 1), 1))
        let means = sums.map { $0 / count }
        return (means.map(Float.init), zip(squares, means).map { Float(max($0 / count - $1 * $1, 0)) })
    }
}
