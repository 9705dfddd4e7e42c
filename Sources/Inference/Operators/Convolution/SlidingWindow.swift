import CQuantKernels

/// The geometry shared by Conv and the pooling operators: kernel, strides, dilations, pads and
/// auto_pad over N spatial dimensions, and the table of input positions each window reads.
struct SlidingWindow: Sendable {
    enum AutoPad: String, Sendable {
        case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"
    }

    /// From the node's attributes; `kernel` is nil for Conv (it comes from the weights' shape).
    struct Attributes: Sendable {
        let kernel: [Int]?
        let strides: [Int]?
        let dilations: [Int]?
        let pads: [Int]?
        let autoPad: AutoPad
        let ceilMode: Bool

        init(_ context: OperatorContext) throws {
            let attributes = context.attributes
            kernel = try attributes.ints("kernel_shape")
            strides = try attributes.ints("strides")
            dilations = try attributes.ints("dilations")
            pads = try attributes.ints("pads")
            let autoPadName = try attributes.string("auto_pad", default: "NOTSET")
            guard let autoPad = AutoPad(rawValue: autoPadName) else {
                throw InferenceError.invalidAttribute(node: context.node.name, attribute: "auto_pad",
                                                      reason: "must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '\(autoPadName)'")
            }
            self.autoPad = autoPad
            ceilMode = try attributes.int("ceil_mode", default: 0) != 0
        }
    }

    /// A window position that lies in the padding (it counts for AveragePool's count_include_pad).
    static let padding = -1
    /// A window position beyond the padding, which only ceil_mode creates (it never counts).
    static let outside = -2

    let inputSize: [Int]
    let kernel: [Int]
    let outputSize: [Int]
    /// For each kernel position (row-major over `kernel`) and output position (row-major over
    /// `outputSize`): the input position (row-major over `inputSize`) it reads, or `padding`/`outside`.
    let inputPositions: [Int]

    /// Every window reads exactly the input position it writes (a 1x1 kernel, stride 1, no pads).
    let isIdentity: Bool
    let strides: [Int]
    let dilations: [Int]
    let padsBegin: [Int]
    let padsEnd: [Int]

    var kernelCount: Int { kernel.reduce(1, *) }
    var outputCount: Int { outputSize.reduce(1, *) }

    init(inputSize: [Int], kernel: [Int], attributes: Attributes) throws {
        let placement = try Self.placement(inputSize: inputSize, kernel: kernel, attributes: attributes)
        let (strides, dilations, padsBegin, padsEnd, outputSize) =
            (placement.strides, placement.dilations, placement.padsBegin, placement.padsEnd, placement.outputSize)
        self.inputSize = inputSize
        self.kernel = kernel
        self.outputSize = outputSize
        self.strides = strides
        self.dilations = dilations
        self.padsBegin = padsBegin
        self.padsEnd = padsEnd
        isIdentity = kernel.allSatisfy { $0 == 1 } && outputSize == inputSize && padsBegin.allSatisfy { $0 == 0 }
        inputPositions = Self.positions(inputSize: inputSize, kernel: kernel, outputSize: outputSize, strides: strides,
                                        dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd)
    }

    /// Where the windows go over `inputSize`: strides, dilations, pads (auto_pad resolved) and how
    /// many windows fit per axis. Also the pooling and convolution operators' shape rule.
    static func placement(inputSize: [Int], kernel: [Int], attributes: Attributes) throws
        -> (strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int], outputSize: [Int]) {
        let rank = inputSize.count
        let strides = attributes.strides ?? Array(repeating: 1, count: rank)
        let dilations = attributes.dilations ?? Array(repeating: 1, count: rank)
        guard kernel.count == rank, strides.count == rank, dilations.count == rank,
              strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }) else {
            throw InferenceError.invalidOperand(
                "kernel \(kernel), strides \(strides) and dilations \(dilations) must be positive, one per spatial dimension of \(inputSize)")
        }
        var padsBegin = Array(repeating: 0, count: rank), padsEnd = padsBegin
        var outputSize = padsBegin
        for axis in 0..<rank {
            let span = (kernel[axis] - 1) * dilations[axis] + 1
            switch attributes.autoPad {
            case .sameUpper, .sameLower:
                outputSize[axis] = (inputSize[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (outputSize[axis] - 1) * strides[axis] + span - inputSize[axis])
                padsBegin[axis] = attributes.autoPad == .sameUpper ? total / 2 : total - total / 2
                padsEnd[axis] = total - padsBegin[axis]
            case .notSet, .valid:
                if attributes.autoPad == .notSet, let pads = attributes.pads {
                    guard pads.count == 2 * rank else {
                        throw InferenceError.invalidOperand("pads \(pads) must hold \(2 * rank) values")
                    }
                    padsBegin[axis] = pads[axis]
                    padsEnd[axis] = pads[rank + axis]
                }
                let room = inputSize[axis] + padsBegin[axis] + padsEnd[axis] - span
                guard room >= 0 else {
                    throw InferenceError.invalidOperand("a window of \(span) does not fit input dimension \(inputSize[axis]) with its pads")
                }
                outputSize[axis] = (attributes.ceilMode ? (room + strides[axis] - 1) / strides[axis] : room / strides[axis]) + 1
                // A ceil_mode window must start inside the input or its leading padding.
                if attributes.ceilMode, (outputSize[axis] - 1) * strides[axis] >= inputSize[axis] + padsBegin[axis] {
                    outputSize[axis] -= 1
                }
            }
        }
        return (strides, dilations, padsBegin, padsEnd, outputSize)
    }

    /// [N, channels, windows per axis...] for an input [N, C, spatial...] whose spatial size is
    /// known; unknown spatial dimensions leave the output's unknown.
    static func outputShape(input: StaticShape, channels: Int?, kernel: [Int], attributes: Attributes) throws -> StaticShape {
        let spatial = input.dropFirst(2)
        let known = spatial.compactMap { $0 }
        let windows: [Int?] = known.count == spatial.count
            ? try placement(inputSize: known, kernel: kernel, attributes: attributes).outputSize
            : Array(repeating: nil, count: spatial.count)
        return [input[0], channels] + windows
    }

    private static func positions(inputSize: [Int], kernel: [Int], outputSize: [Int], strides: [Int], dilations: [Int],
                                  padsBegin: [Int], padsEnd: [Int]) -> [Int] {
        let rank = inputSize.count
        let inputStrides = rowMajorStrides(inputSize)
        let kernelCount = kernel.reduce(1, *), outputCount = outputSize.reduce(1, *)
        var table = [Int](repeating: 0, count: kernelCount * outputCount)
        var kernelIndex = [Int](repeating: 0, count: rank)
        for kernelPosition in 0..<kernelCount {
            var outputIndex = [Int](repeating: 0, count: rank)
            for outputPosition in 0..<outputCount {
                var position = 0, state = 0 // 0 inside, 1 padding, 2 outside
                for axis in 0..<rank {
                    let coordinate = outputIndex[axis] * strides[axis] - padsBegin[axis] + kernelIndex[axis] * dilations[axis]
                    if coordinate < -padsBegin[axis] || coordinate >= inputSize[axis] + padsEnd[axis] {
                        state = 2
                    } else if coordinate < 0 || coordinate >= inputSize[axis] {
                        state = max(state, 1)
                    } else {
                        position += coordinate * inputStrides[axis]
                    }
                }
                table[kernelPosition * outputCount + outputPosition] = state == 0 ? position : (state == 1 ? padding : outside)
                advance(&outputIndex, within: outputSize)
            }
            advance(&kernelIndex, within: kernel)
        }
        return table
    }

    /// Steps a row-major multi-index by one.
    private static func advance(_ index: inout [Int], within shape: [Int]) {
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { return }
            index[axis] = 0
            axis -= 1
        }
    }

    /// The C kernels' description of a 2-D window over `channels` planes; nil for other ranks.
    func planar(channels: Int) -> qf_conv2d_geometry? {
        guard inputSize.count == 2 else { return nil }
        return qf_conv2d_geometry(
            channels: channels, height: inputSize[0], width: inputSize[1], kernel_h: kernel[0], kernel_w: kernel[1],
            stride_h: strides[0], stride_w: strides[1], dilation_h: dilations[0], dilation_w: dilations[1],
            pad_top: padsBegin[0], pad_left: padsBegin[1], out_h: outputSize[0], out_w: outputSize[1])
    }
}
