struct Cast: Operator {
    let target: ElementType

    init(_ context: OperatorContext) throws {
        let code = try context.attributes.requiredInt("to")
        guard let target = ElementType(onnxDataType: Int32(truncatingIfNeeded: code)) else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "to",
                                                  reason: "names ONNX data type \(code), which the engine does not support")
        }
        self.target = target
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        [try inputs.required(0).converted(to: target)]
    }
}
