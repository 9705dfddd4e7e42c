/// Cast to the type attribute `to` names; CastLike to the type of its second operand. Into float8
/// types values saturate unless `saturate` is 0; into float8e8m0 they round by `round_mode`.
struct Cast: SingleOutputOperator, ShapePreserving {
    /// nil: CastLike, whose target is its second operand's type.
    let target: ElementType?
    let saturates: Bool
    let e8m0Rounding: SmallFloatFormat.E8M0Rounding

    init(_ context: OperatorContext) throws {
        target = context.node.opType == "CastLike" ? nil
            : try ElementType(onnxAttribute: context.attributes.requiredInt("to"), node: context.node.name, attribute: "to")
        saturates = try context.attributes.int("saturate", default: 1) != 0
        e8m0Rounding = try context.attributes.choice("round_mode", default: SmallFloatFormat.E8M0Rounding.up)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let type = try target ?? inputs.required(1).elementType
        return Tensor(shape: x.shape, storage: try x.storage.converted(to: type, saturating: saturates, e8m0Rounding: e8m0Rounding))
    }
}
