/// Inference-mode BatchNormalization over channel axis 1: y = scale * (x - mean) / sqrt(var + epsilon) + bias.
struct BatchNormalization: SingleOutputOperator {
    let epsilon: Float

    init(_ context: OperatorContext) throws {
        epsilon = try context.attributes.float("epsilon", default: 1e-5)
        if try context.attributes.int("training_mode", default: 0) != 0 || context.node.outputs.count > 1 {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "training_mode",
                                                  reason: "is set (or running statistics are requested); only inference mode is supported")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count >= 2 else { throw InferenceError.invalidOperand("X must be [N, C, ...], got \(x.shape)") }
        let channels = x.shape[1]
        let parameters = try (1...4).map { index in
            let values = try inputs.required(index).floats
            guard values.count == channels else { throw InferenceError.invalidOperand("input \(index) must hold \(channels) values") }
            return values
        }
        let (scale, bias, mean, variance) = (parameters[0], parameters[1], parameters[2], parameters[3])
        let multipliers = (0..<channels).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        let offsets = (0..<channels).map { bias[$0] - mean[$0] * multipliers[$0] }
        let inner = x.shape.dropFirst(2).reduce(1, *)
        let input = try x.floatOperand("X")
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
        return Tensor(shape: x.shape, floats: values, as: x.elementType)
    }
}
