/// Col2Im (opset 18): the adjoint of im2col. Input [N, C x prod(block_shape), L] holds one column of
/// block values per sliding-window position; each value is added into the image [N, C, image_shape...]
/// at the position its window reads (overlapping windows accumulate; values in the padding are dropped).
struct Col2Im: SingleOutputOperator {
    private let window: SlidingWindow.Attributes

    init(_ context: OperatorContext) throws {
        window = try SlidingWindow.Attributes(context)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard let imageShape = inputs.integers(1), let blockShape = inputs.integers(2), imageShape.count == blockShape.count else {
            throw InferenceError.invalidOperand("image_shape and block_shape must be given, one value per spatial dimension each")
        }
        let geometry = try SlidingWindow(inputSize: imageShape, kernel: blockShape, attributes: window)
        let blockCount = geometry.kernelCount, positionCount = geometry.outputCount
        guard x.shape.count == 3, x.shape[1] % max(blockCount, 1) == 0, x.shape[2] == positionCount else {
            throw InferenceError.invalidOperand("input must be [N, C x \(blockCount), \(positionCount)] for image \(imageShape) and block \(blockShape), got \(x.shape)")
        }
        let (batch, channels) = (x.shape[0], x.shape[1] / blockCount), imageSize = imageShape.reduce(1, *)
        let columns = try x.floatOperand("input")
        var image = [Float](repeating: 0, count: batch * channels * imageSize)
        for plane in 0..<(batch * channels) {
            let columnStart = plane * blockCount * positionCount, imageStart = plane * imageSize
            for (entry, position) in geometry.inputPositions.enumerated() where position >= 0 {
                image[imageStart + position] += columns[columnStart + entry]
            }
        }
        return Tensor(shape: [batch, channels] + imageShape, floats: image, as: x.elementType)
    }
}
