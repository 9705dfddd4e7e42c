/// How the scale and zero point of QuantizeLinear / DequantizeLinear map onto the elements of the
/// tensor they quantize: one pair for the whole tensor, one per index along `axis`, or (opset 21+)
/// one per block of `blockSize` consecutive indices along `axis`.
struct QuantizationParameterLayout {
    private enum Granularity {
        case perTensor
        case perAxis
        case blocked(size: Int, blocks: Int)
    }

    private let granularity: Granularity
    /// Elements before one step along the axis (the product of the dimensions after it).
    private let inner: Int
    private let axisLength: Int

    /// - Parameters:
    ///   - shape: the quantized (or to-be-quantized) tensor's shape.
    ///   - parameterShape: the scale's shape; the zero point, when present, must have the same shape.
    init(shape: [Int], parameterShape: [Int], axis: Int, blockSize: Int) throws {
        let parameterCount = parameterShape.reduce(1, *)
        if blockSize > 0 {
            let axis = try normalizedAxis(axis, rank: shape.count)
            let blocks = (shape[axis] + blockSize - 1) / blockSize
            var expected = shape
            expected[axis] = blocks
            guard parameterShape == expected else {
                throw InferenceError.invalidOperand(
                    "blocked quantization of \(shape) along axis \(axis) in blocks of \(blockSize) needs scales of shape \(expected), got \(parameterShape)")
            }
            granularity = .blocked(size: blockSize, blocks: blocks)
            axisLength = shape[axis]
            inner = shape[(axis + 1)...].reduce(1, *)
        } else if parameterShape.count <= 1 && parameterCount == 1 {
            granularity = .perTensor
            axisLength = 1
            inner = 1
        } else {
            guard parameterShape.count == 1 else {
                throw InferenceError.invalidOperand("scale must be a scalar or 1-D without block_size, got shape \(parameterShape)")
            }
            let axis = try normalizedAxis(axis, rank: shape.count)
            guard parameterShape[0] == shape[axis] else {
                throw InferenceError.invalidOperand(
                    "per-axis scale has \(parameterShape[0]) values, axis \(axis) of \(shape) has \(shape[axis])")
            }
            granularity = .perAxis
            axisLength = shape[axis]
            inner = shape[(axis + 1)...].reduce(1, *)
        }
    }

    /// The position in the scale (and zero point) that applies to element `index` of the tensor.
    func parameterIndex(of index: Int) -> Int {
        switch granularity {
        case .perTensor:
            return 0
        case .perAxis:
            return (index / inner) % axisLength
        case .blocked(let size, let blocks):
            let outer = index / (axisLength * inner), position = (index / inner) % axisLength
            return (outer * blocks + position / size) * inner + index % inner
        }
    }

    /// The opset's `axis` and `block_size` attributes (both default as ONNX specifies).
    static func attributes(of context: OperatorContext) throws -> (axis: Int, blockSize: Int) {
        let blockSize = try context.attributes.int("block_size", default: 0)
        guard blockSize >= 0 else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "block_size", reason: "must not be negative")
        }
        return (try context.attributes.int("axis", default: 1), blockSize)
    }
}
