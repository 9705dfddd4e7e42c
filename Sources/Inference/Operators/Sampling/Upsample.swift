/// Upsample (opsets 7-9, deprecated by Resize): Resize-10's nearest or linear resampling with
/// asymmetric coordinates; the scales are an attribute at opset 7 and an input from opset 9.
struct Upsample: SingleOutputOperator {
    let resize: Resize
    let attributeScales: Tensor?

    init(_ context: OperatorContext) throws {
        resize = try Resize(OperatorContext(node: context.node, opset: 10, constants: context.constants))
        attributeScales = try context.attributes.floats("scales").map { Tensor(shape: [$0.count], floats: $0) }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        try resize.run([inputs.required(0), attributeScales ?? inputs.required(1)])
    }
}
