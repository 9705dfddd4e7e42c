struct Relu: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        return [Tensor(shape: x.shape, floats: try x.floatOperand("X").map { max($0, 0) })]
    }
}
