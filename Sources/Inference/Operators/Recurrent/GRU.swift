/// GRU (opsets 7, 14, 22): gates z (update), r (reset), h (candidate) stacked in that order in W, R
/// and B. Without `linear_before_reset` the reset gate scales the hidden state before Rh multiplies
/// it; with it, after (as cuDNN and PyTorch compute). Outputs Y and Y_h.
struct GRU: Operator {
    private let layer: RecurrentLayer
    /// f and g of each direction.
    private let activations: [[RecurrentActivation]]
    private let linearBeforeReset: Bool

    init(_ context: OperatorContext) throws {
        linearBeforeReset = try context.attributes.int("linear_before_reset", default: 0) != 0
        // Rh multiplies r ⊙ H, known only once r is, so it is a product of its own.
        layer = try RecurrentLayer(context, gateCount: 3, recurrenceGroups: linearBeforeReset ? [0..<3] : [0..<2, 2..<3])
        activations = try RecurrentActivation.parse(context, defaults: ["Sigmoid", "Tanh"], directions: layer.directions)
    }

    var preparedBytes: Int { layer.preparedBytes }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let cells = activations.map { GRUCell(gate: $0[0], candidate: $0[1], linearBeforeReset: linearBeforeReset) }
        try layer.run(inputs, cells: cells, hiddenSize: try layer.hiddenSize(inputs), into: &outputs)
    }
}

private struct GRUCell: RecurrentCell {
    /// f: the update and reset gates.
    let gate: RecurrentActivation
    /// g: the candidate hidden state.
    let candidate: RecurrentActivation
    let linearBeforeReset: Bool

    func advance(_ gates: inout [Float], state: inout RecurrentState, weights: RecurrentWeights) {
        let (rows, width) = (state.rows, state.width)
        let recurrent = weights.recurrence(state.hidden, group: 0, rows: rows)
        let recurrentWidth = recurrent.count / max(rows, 1)
        var resetHidden = [Float](repeating: 0, count: linearBeforeReset ? 0 : rows * width)
        gates.withUnsafeMutableBufferPointer { gates in
            for row in 0..<rows {
                let update = gates.baseAddress! + row * 3 * width, reset = update + width, proposal = update + 2 * width
                let recurrentStart = row * recurrentWidth
                for k in 0..<(2 * width) { update[k] += recurrent[recurrentStart + k] }
                gate.apply(update, count: 2 * width)
                for k in 0..<width {
                    if linearBeforeReset {
                        proposal[k] += reset[k] * recurrent[recurrentStart + 2 * width + k]
                    } else {
                        resetHidden[row * width + k] = reset[k] * state.hidden[row * width + k]
                    }
                }
            }
        }
        if !linearBeforeReset {
            let resetRecurrent = weights.recurrence(resetHidden, group: 1, rows: rows)
            for row in 0..<rows {
                for k in 0..<width { gates[row * 3 * width + 2 * width + k] += resetRecurrent[row * width + k] }
            }
        }
        gates.withUnsafeMutableBufferPointer { gates in
            for row in 0..<rows {
                let update = gates.baseAddress! + row * 3 * width, proposal = update + 2 * width
                candidate.apply(proposal, count: width)
                for k in 0..<width {
                    let previous = state.hidden[row * width + k]
                    state.hidden[row * width + k] = (1 - update[k]) * proposal[k] + update[k] * previous
                }
            }
        }
    }
}
