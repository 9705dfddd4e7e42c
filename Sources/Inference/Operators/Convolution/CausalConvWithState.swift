import CQuantKernels

/// CausalConvWithState (opset 27): a depthwise 1-D convolution that sees only the current and past
/// positions, for decoding a few tokens at a time (Mamba, Gated DeltaNet). input is [batch, channels,
/// length], weight [channels, 1, k]; the k - 1 positions before the input come from past_state (zeros
/// without one), and present_state keeps the last k - 1 positions of that joined sequence for the
/// next call. The joined sequence runs through Conv's depthwise kernel as a one-row image, unpadded.
struct CausalConvWithState: Operator {
    /// SiLU (activation "silu" or its alias "swish"), or nil for none.
    private let activation: (@Sendable (Float) -> Float)?
    private let path: FloatKernelPath

    init(_ context: OperatorContext) throws {
        let node = context.node.name
        switch try context.attributes.string("activation", default: "none") {
        case "none": activation = nil
        case "silu", "swish": activation = try UnaryFunction.catalogue["Swish"]!(NodeAttributes(node: node, values: [:])).float
        case let other:
            throw InferenceError.invalidAttribute(node: node, attribute: "activation", reason: "must be 'none', 'silu' or 'swish', got '\(other)'")
        }
        path = context.floatPath
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0), w = try inputs.required(1), past = inputs.optional(3)
        guard x.shape.count == 3, w.shape.count == 3, w.shape[0] == x.shape[1], w.shape[1] == 1, w.shape[2] > 0 else {
            throw InferenceError.invalidOperand("input \(x.shape) must be [batch, channels, length] and weight \(w.shape) [channels, 1, k]")
        }
        let (batch, channels, length, kernel) = (x.shape[0], x.shape[1], x.shape[2], w.shape[2])
        let stateShape = [batch, channels, kernel - 1]
        if let past, past.shape != stateShape {
            throw InferenceError.invalidOperand("past_state \(past.shape) must be \(stateShape)")
        }
        let bias = try inputs.optional(2).map { try $0.floatOperand("bias") }
        if let bias, bias.count != channels { throw InferenceError.invalidOperand("bias must hold \(channels) values, got \(bias.count)") }

        let history = past ?? Tensor(shape: stateShape, floats: [Float](repeating: 0, count: stateShape.reduce(1, *)), as: x.elementType)
        let span = kernel - 1 + length
        let joined = try TensorStorage.interleaved([history.storage, x.storage], blocks: batch * channels, blockSizes: [kernel - 1, length])
        let planar = qf_conv2d_geometry(channels: channels, height: 1, width: span, kernel_h: 1, kernel_w: kernel, stride_h: 1, stride_w: 1,
                                        dilation_h: 1, dilation_w: 1, pad_top: 0, pad_left: 0, out_h: 1, out_w: length)
        var output = Conv.depthwise(try Tensor(shape: [batch, channels, span], storage: joined).floatOperand("input"),
                                    weights: try w.floatOperand("weight"), bias: bias, planar: planar, batch: batch, path: path)
        if let activation { output = output.map(activation) }
        outputs.append(Tensor(shape: x.shape, floats: output, as: x.elementType))
        let lastPositions = (0..<(batch * channels)).map { $0 * span + length }
        outputs.append(Tensor(shape: stateShape, storage: joined.runs(from: lastPositions, width: kernel - 1)))
    }
}
