/// Cast to the type attribute `to` names; CastLike to the type of its second operand.
struct Cast: SingleOutputOperator {
    /// nil: CastLike, whose target is its second operand's type.
    let target: ElementType?

    init(_ context: OperatorContext) throws {
        target = context.node.opType == "CastLike" ? nil
            : try ElementType(onnxAttribute: context.attributes.requiredInt("to"), node: context.node.name, attribute: "to")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        try inputs.required(0).converted(to: target ?? inputs.required(1).elementType)
    }
}
