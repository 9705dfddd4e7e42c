/// BitCast: the same bytes read as another type of the same width (opset 26).
struct BitCast: SingleOutputOperator {
    let target: ElementType

    init(_ context: OperatorContext) throws {
        target = try ElementType(onnxAttribute: context.attributes.requiredInt("to"), node: context.node.name, attribute: "to")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.elementType.byteWidth == target.byteWidth, x.elementType != .string, target != .string, x.elementType != .int4, x.elementType != .uint4, target != .int4, target != .uint4 else {
            throw InferenceError.invalidOperand("BitCast from \(x.elementType.rawValue) to \(target.rawValue): the widths differ")
        }
        let bytes = x.storage.littleEndianBytes
        return Tensor(shape: x.shape, storage: bytes.withUnsafeBytes { TensorStorage(type: target, littleEndianBytes: $0, count: x.count) })
    }
}
