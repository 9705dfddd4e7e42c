/// RNN (opsets 7, 14, 22): H = f(X·Wᵀ + H·Rᵀ + Wb + Rb), one gate. Outputs Y and Y_h.
struct RNN: Operator {
    private let layer: RecurrentLayer
    /// f of each direction.
    private let activations: [[RecurrentActivation]]

    init(_ context: OperatorContext) throws {
        layer = try RecurrentLayer(context, gateCount: 1)
        activations = try RecurrentActivation.parse(context, defaults: ["Tanh"], directions: layer.directions)
    }

    var preparedBytes: Int { layer.preparedBytes }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let cells = activations.map { SimpleRecurrentCell(activation: $0[0]) }
        try layer.run(inputs, cells: cells, hiddenSize: try layer.hiddenSize(inputs), into: &outputs)
    }
}

private struct SimpleRecurrentCell: RecurrentCell {
    let activation: RecurrentActivation

    func advance(_ gates: inout [Float], state: inout RecurrentState, weights: RecurrentWeights) {
        gates.add(weights.recurrence(state.hidden, group: 0, rows: state.rows))
        gates.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        state.hidden = gates
    }
}
