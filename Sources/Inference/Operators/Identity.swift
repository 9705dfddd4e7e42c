struct Identity: Operator {
    var viewsFirstInput: Bool { true }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        [try inputs.required(0)]
    }
}
