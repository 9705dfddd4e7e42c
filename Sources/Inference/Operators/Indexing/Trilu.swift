/// Trilu: the upper (default) or lower triangle of each matrix in the last two axes, diagonal shifted
/// by k; the rest zero.
struct Trilu: SingleOutputOperator, ShapePreserving {
    let upper: Bool

    init(_ context: OperatorContext) throws {
        upper = try context.attributes.int("upper", default: 1) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count >= 2 else { throw InferenceError.invalidOperand("Trilu needs a rank of at least 2, got \(x.shape)") }
        let k = inputs.integers(1)?.first ?? 0
        let rows = x.shape[x.shape.count - 2], columns = x.shape[x.shape.count - 1]
        let positions = (0..<x.count).map { position in
            let row = (position / columns) % rows, column = position % columns
            return (upper ? column - row >= k : column - row <= k) ? position : x.count
        }
        return Tensor(shape: x.shape, storage: try x.joined(with: x.scalar(0)).gathered(positions))
    }
}

/// EyeLike: a 2-D tensor of the input's shape with ones on the diagonal shifted by k, of `dtype` or the input's type.
struct EyeLike: SingleOutputOperator, ShapePreserving {
    let k: Int
    let type: ElementType?

    init(_ context: OperatorContext) throws {
        k = try context.attributes.int("k", default: 0)
        type = try context.attributes.int("dtype").map { try ElementType(onnxAttribute: $0, node: context.node.name, attribute: "dtype") }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count == 2 else { throw InferenceError.invalidOperand("EyeLike needs a 2-D input, got \(x.shape)") }
        let columns = x.shape[1]
        let values = (0..<x.count).map { $0 % columns - $0 / columns == k ? Float(1) : 0 }
        return try Tensor(shape: x.shape, floats: values).converted(to: type ?? x.elementType)
    }
}

extension ElementType {
    /// The type an integer attribute (Cast's `to`, EyeLike's `dtype`) names.
    init(onnxAttribute code: Int, node: String, attribute: String) throws {
        guard let type = ElementType(onnxDataType: Int32(truncatingIfNeeded: code)) else {
            throw InferenceError.invalidAttribute(node: node, attribute: attribute, reason: "names ONNX data type \(code), which the engine does not support")
        }
        self = type
    }
}
