/// Dropout at inference: the input unchanged, and the optional mask all true. Training mode with a
/// nonzero ratio draws random masks, which inference never does: refused.
struct Dropout: Operator, ShapePreserving {
    var viewsFirstInput: Bool { true }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        let ratio = inputs.optional(1).map { $0.float(at: 0) } ?? 0.5
        if let training = inputs.optional(2), training.float(at: 0) != 0, ratio != 0 {
            throw InferenceError.invalidOperand("training-mode Dropout (ratio \(ratio)) draws random masks; the engine runs inference only")
        }
        outputs.append(x)
        outputs.append(Tensor(shape: x.shape, bools: Array(repeating: true, count: x.count)))
    }
}

/// IsNaN, and IsInf (either sign unless detect_negative or detect_positive is 0): bool per element.
struct FloatClassification: SingleOutputOperator, ShapePreserving {
    let test: @Sendable (Float) -> Bool

    init(_ context: OperatorContext) throws {
        if context.node.opType == "IsNaN" {
            test = { $0.isNaN }
        } else {
            let negative = try context.attributes.int("detect_negative", default: 1) != 0
            let positive = try context.attributes.int("detect_positive", default: 1) != 0
            test = { $0.isInfinite && ($0 < 0 ? negative : positive) }
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        return Tensor(shape: x.shape, bools: try x.floatOperand("X").map(test))
    }
}
