/// LSTM (opsets 7, 14, 22): gates i, o, f, c stacked in that order in W, R and B; optional
/// peepholes P [directions, 3 x hidden] (i, o, f); `input_forget` couples the forget gate to the input
/// gate (f = 1 - i). Outputs Y, Y_h and Y_c.
struct LSTM: Operator {
    private let layer: RecurrentLayer
    /// f, g and h of each direction (h unclipped).
    private let activations: [[RecurrentActivation]]
    private let couplesInputAndForget: Bool

    /// `weightFormat` .dynamicallyQuantized: onnxruntime's DynamicQuantizeLSTM (com.microsoft), an LSTM
    /// whose W and R are 8-bit (see DynamicallyQuantizedWeights).
    init(_ context: OperatorContext, weightFormat: RecurrentWeightFormat = .float) throws {
        layer = try RecurrentLayer(context, gateCount: 4, carriesCellState: true, weightFormat: weightFormat)
        activations = try RecurrentActivation.parse(context, defaults: ["Sigmoid", "Tanh", "Tanh"], directions: layer.directions)
            .map { [$0[0], $0[1], $0[2].unclipped] }
        couplesInputAndForget = try context.attributes.int("input_forget", default: 0) != 0
    }

    var preparedBytes: Int { layer.preparedBytes }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let hiddenSize = try layer.hiddenSize(inputs)
        let peepholes = try inputs.optional(7).map { try layer.perDirection($0, count: 3 * hiddenSize, role: "P") }
        let cells = activations.enumerated().map { direction, functions in
            LSTMCell(gate: functions[0], candidate: functions[1], output: functions[2], peepholes: peepholes?[direction],
                     couplesInputAndForget: couplesInputAndForget)
        }
        try layer.run(inputs, cells: cells, hiddenSize: hiddenSize, into: &outputs)
    }
}

private struct LSTMCell: RecurrentCell {
    /// f: the input, forget and output gates.
    let gate: RecurrentActivation
    /// g: the candidate cell state.
    let candidate: RecurrentActivation
    /// h: applied to the cell state to give the hidden state.
    let output: RecurrentActivation
    let peepholes: [Float]?
    let couplesInputAndForget: Bool

    func advance(_ gates: inout [Float], state: inout RecurrentState, weights: RecurrentWeights) {
        let width = state.width
        gates.add(weights.recurrence(state.hidden, group: 0, rows: state.rows))
        var squashedCell = [Float](repeating: 0, count: width)
        gates.withUnsafeMutableBufferPointer { gates in
            for row in 0..<state.rows {
                let input = gates.baseAddress! + row * 4 * width, outputGate = input + width, forget = input + 2 * width, cellGate = input + 3 * width
                let stateStart = row * width
                if let peepholes {
                    for k in 0..<width {
                        input[k] += peepholes[k] * state.cell[stateStart + k]
                        forget[k] += peepholes[2 * width + k] * state.cell[stateStart + k]
                    }
                }
                gate.apply(input, count: width)
                if couplesInputAndForget {
                    for k in 0..<width { forget[k] = 1 - input[k] }
                } else {
                    gate.apply(forget, count: width)
                }
                candidate.apply(cellGate, count: width)
                for k in 0..<width {
                    state.cell[stateStart + k] = forget[k] * state.cell[stateStart + k] + input[k] * cellGate[k]
                }
                // The output gate's peephole looks at the new cell state.
                if let peepholes {
                    for k in 0..<width { outputGate[k] += peepholes[width + k] * state.cell[stateStart + k] }
                }
                gate.apply(outputGate, count: width)
                squashedCell.withUnsafeMutableBufferPointer { squashed in
                    for k in 0..<width { squashed[k] = state.cell[stateStart + k] }
                    output.apply(squashed.baseAddress!, count: width)
                    for k in 0..<width { state.hidden[stateStart + k] = outputGate[k] * squashed[k] }
                }
            }
        }
    }
}
