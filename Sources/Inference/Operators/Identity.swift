struct Identity: SingleOutputOperator {
    var viewsFirstInput: Bool { true }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        try inputs.required(0)
    }
}
