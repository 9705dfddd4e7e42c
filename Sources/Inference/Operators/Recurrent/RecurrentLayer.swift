/// One timestep of LSTM, GRU or RNN: the part that differs between them. A cell serves one direction.
protocol RecurrentCell: Sendable {
    /// Advances every batch row of `state` one timestep. `gates` arrives holding X·Wᵀ + Wb of each
    /// row's input at its timestep, [rows, gates x hidden]; the cell may overwrite it.
    func advance(_ gates: inout [Float], state: inout RecurrentState, weights: RecurrentWeights)
}

/// The hidden state (and LSTM's cell state) of every batch row, [rows, width] each.
struct RecurrentState {
    let rows: Int
    let width: Int
    var hidden: [Float]
    /// Empty for GRU and RNN.
    var cell: [Float]

    /// Puts row `row` of `other` back (a row whose sequence has ended keeps its last state).
    mutating func restoreRow(_ row: Int, from other: RecurrentState) {
        let span = (row * width)..<((row + 1) * width)
        hidden.replaceSubrange(span, with: other.hidden[span])
        if !cell.isEmpty { cell.replaceSubrange(span, with: other.cell[span]) }
    }
}

/// A weight matrix B [K, N] prepared for `rows` x K times B: packed floats, or (DynamicQuantizeLSTM)
/// 8-bit weights that quantize A on each product.
protocol RecurrentProjection: Sendable {
    var depth: Int { get }
    var residentBytes: Int { get }
    func multiply(_ a: [Float], rows: Int, on multiplier: MatrixMultiplier) -> [Float]
}

extension PackedFloatWeights: RecurrentProjection {}

/// One direction's W and R, transposed and prepared for the GEMM kernels, with their biases.
struct RecurrentWeights: Sendable {
    /// Wᵀ, [input, gates x hidden].
    let input: any RecurrentProjection
    let inputBias: [Float]
    /// Rᵀ of each group of gates the cell multiplies on its own, [hidden, group gates x hidden].
    let recurrence: [any RecurrentProjection]
    let recurrenceBias: [[Float]]
    let multiplier: MatrixMultiplier

    /// source · Rᵀ + Rb for the gates of `group`, [rows, group gates x hidden]; `source` is [rows, hidden].
    func recurrence(_ source: [Float], group: Int, rows: Int) -> [Float] {
        var product = recurrence[group].multiply(source, rows: rows, on: multiplier)
        product.addRowBias(recurrenceBias[group])
        return product
    }
}

/// What LSTM, GRU and RNN share: the attributes `direction`, `hidden_size` and `layout`; operands W
/// [directions, gates x hidden, input], R [directions, gates x hidden, hidden] and B [directions,
/// 2 x gates x hidden] (Wb then Rb); the input projection of all timesteps in one GEMM per direction;
/// the walk over time, backwards for the reverse direction and stopping each batch row at its
/// `sequence_lens`; and the outputs Y, Y_h (and LSTM's Y_c) in either layout.
struct RecurrentLayer: Sendable {
    let gateCount: Int
    /// Per direction: true when it walks time backwards.
    let reversed: [Bool]
    let declaredHiddenSize: Int?
    /// layout = 1: X, initial states and outputs put the batch axis first.
    let batchFirst: Bool
    /// Gate ranges of R that cells multiply separately (GRU multiplies its candidate gate's R by the
    /// reset hidden state unless linear_before_reset).
    let recurrenceGroups: [Range<Int>]
    /// True for LSTM: initial_c is input 6 and Y_c output 2.
    let carriesCellState: Bool
    let weightFormat: RecurrentWeightFormat
    private let multiplier: MatrixMultiplier
    /// Prepared at load when W, R and B are constants (exported models' weights).
    private let constantWeights: [RecurrentWeights]?

    var directions: Int { reversed.count }

    init(_ context: OperatorContext, gateCount: Int, recurrenceGroups: [Range<Int>]? = nil, carriesCellState: Bool = false,
         weightFormat: RecurrentWeightFormat = .float) throws {
        let attributes = context.attributes, node = context.node.name
        self.gateCount = gateCount
        self.recurrenceGroups = recurrenceGroups ?? [0..<gateCount]
        self.carriesCellState = carriesCellState
        self.weightFormat = weightFormat
        multiplier = context.multiplier
        switch try attributes.string("direction", default: "forward") {
        case "forward": reversed = [false]
        case "reverse": reversed = [true]
        case "bidirectional": reversed = [false, true]
        case let other:
            throw InferenceError.invalidAttribute(node: node, attribute: "direction", reason: "must be forward, reverse or bidirectional, got '\(other)'")
        }
        declaredHiddenSize = try attributes.int("hidden_size")
        if let size = declaredHiddenSize, size <= 0 {
            throw InferenceError.invalidAttribute(node: node, attribute: "hidden_size", reason: "must be positive, got \(size)")
        }
        switch try attributes.int("layout", default: 0) {
        case 0: batchFirst = false
        case 1: batchFirst = true
        case let other: throw InferenceError.invalidAttribute(node: node, attribute: "layout", reason: "must be 0 or 1, got \(other)")
        }
        let isOmitted = { (index: Int) in context.node.inputs.count <= index || context.node.inputs[index].isEmpty }
        let isConstant = weightFormat.weightOperands.allSatisfy { context.constantInput($0) != nil || ($0 == 3 && isOmitted($0)) }
        constantWeights = isConstant
            ? try Self.prepareWeights(context.constantInput, format: weightFormat, directions: reversed.count, gateCount: gateCount,
                                      groups: self.recurrenceGroups, multiplier: multiplier)
            : nil
    }

    var preparedBytes: Int {
        (constantWeights ?? []).reduce(0) { total, weights in
            weights.recurrence.reduce(total + weights.input.residentBytes) { $0 + $1.residentBytes }
        }
    }

    /// Runs one cell per direction over X (input 0) and appends Y, Y_h and, for LSTM, Y_c.
    func run(_ inputs: [Tensor?], cells: [any RecurrentCell], hiddenSize: Int, into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        guard x.shape.count == 3 else { throw InferenceError.invalidOperand("X must be 3-D, got \(x.shape)") }
        let (sequence, batch) = batchFirst ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
        let weights = try constantWeights ?? Self.prepareWeights(inputs.optional, format: weightFormat, directions: directions, gateCount: gateCount,
                                                                  groups: recurrenceGroups, multiplier: multiplier)
        guard weights[0].input.depth == x.shape[2] else {
            throw InferenceError.invalidOperand("X has \(x.shape[2]) features per timestep, W expects \(weights[0].input.depth)")
        }
        let lengths = try sequenceLengths(inputs.optional(4), sequence: sequence, batch: batch)
        let timeMajorX = try Self.swappingLeadingAxes(x.floatOperand("X"), shape: x.shape, if: batchFirst)
        let initialHidden = try initialState(inputs.optional(5), role: "initial_h", batch: batch, hiddenSize: hiddenSize)
        let initialCell = carriesCellState ? try initialState(inputs.optional(6), role: "initial_c", batch: batch, hiddenSize: hiddenSize) : []
        let stateSize = batch * hiddenSize
        var y = [Float](repeating: 0, count: sequence * directions * stateSize)
        var finalHidden: [Float] = [], finalCell: [Float] = []
        for (direction, cell) in cells.enumerated() {
            let stateSpan = (direction * stateSize)..<((direction + 1) * stateSize)
            var state = RecurrentState(rows: batch, width: hiddenSize, hidden: Array(initialHidden[stateSpan]),
                                       cell: initialCell.isEmpty ? [] : Array(initialCell[stateSpan]))
            walk(direction, cell: cell, weights: weights[direction], timeMajorX: timeMajorX, sequence: sequence, lengths: lengths, state: &state, y: &y)
            finalHidden += state.hidden
            finalCell += state.cell
        }
        let type = x.elementType
        let stateShape = batchFirst ? [batch, directions, hiddenSize] : [directions, batch, hiddenSize]
        let yShape = batchFirst ? [batch, sequence, directions, hiddenSize] : [sequence, directions, batch, hiddenSize]
        let yValues = batchFirst ? Self.permuted(y, shape: [sequence, directions, batch, hiddenSize], order: [2, 0, 1, 3]) : y
        outputs.append(Tensor(shape: yShape, floats: yValues, as: type))
        outputs.append(Tensor(shape: stateShape, floats: Self.swappingLeadingAxes(finalHidden, shape: [directions, batch, hiddenSize], if: batchFirst), as: type))
        if carriesCellState {
            outputs.append(Tensor(shape: stateShape, floats: Self.swappingLeadingAxes(finalCell, shape: [directions, batch, hiddenSize], if: batchFirst), as: type))
        }
    }

    /// Walks one direction over time from `state`, writing each row's hidden state into Y
    /// [sequence, directions, rows, width] at its timestep.
    private func walk(_ direction: Int, cell: any RecurrentCell, weights: RecurrentWeights, timeMajorX: [Float], sequence: Int,
                      lengths: [Int], state: inout RecurrentState, y: inout [Float]) {
        let (batch, width) = (state.rows, state.width), gateWidth = gateCount * width
        var projected = weights.input.multiply(timeMajorX, rows: sequence * batch, on: multiplier)
        projected.addRowBias(weights.inputBias)
        for step in 0..<(lengths.max() ?? 0) {
            let times = lengths.map { length in step < length ? (reversed[direction] ? length - 1 - step : step) : nil }
            // Rows whose sequence has ended still run (on any timestep's input): their result is dropped.
            var gates = [Float]()
            gates.reserveCapacity(batch * gateWidth)
            for (row, time) in times.enumerated() {
                let start = ((time ?? 0) * batch + row) * gateWidth
                gates.append(contentsOf: projected[start..<(start + gateWidth)])
            }
            let previous = times.contains(nil) ? state : nil
            cell.advance(&gates, state: &state, weights: weights)
            for (row, time) in times.enumerated() {
                guard let time else {
                    state.restoreRow(row, from: previous!)
                    continue
                }
                let target = ((time * directions + direction) * batch + row) * width
                y.replaceSubrange(target..<(target + width), with: state.hidden[(row * width)..<((row + 1) * width)])
            }
        }
    }

    /// The hidden size R implies, checked against the attribute.
    func hiddenSize(_ inputs: [Tensor?]) throws -> Int {
        let r = try inputs.required(2)
        // Float R is [directions, gates x hidden, hidden]; 8-bit R is stored transposed.
        let (gates, hidden) = weightFormat == .float ? (1, 2) : (2, 1)
        guard r.shape.count == 3, r.shape[0] == directions, r.shape[gates] == gateCount * r.shape[hidden] else {
            let expected = weightFormat == .float ? "[\(directions), \(gateCount) x hidden, hidden]" : "[\(directions), hidden, \(gateCount) x hidden]"
            throw InferenceError.invalidOperand("R must be \(expected), got \(r.shape)")
        }
        if let declaredHiddenSize, declaredHiddenSize != r.shape[hidden] {
            throw InferenceError.invalidOperand("R's shape \(r.shape) disagrees with hidden_size \(declaredHiddenSize)")
        }
        return r.shape[hidden]
    }

    /// A per-direction vector operand ([directions, count]: LSTM's peepholes) split by direction.
    func perDirection(_ tensor: Tensor, count: Int, role: String) throws -> [[Float]] {
        guard tensor.shape == [directions, count] else {
            throw InferenceError.invalidOperand("\(role) must be [\(directions), \(count)], got \(tensor.shape)")
        }
        let values = try tensor.floatOperand(role)
        return (0..<directions).map { Array(values[($0 * count)..<(($0 + 1) * count)]) }
    }

    /// Each direction's weights from the node's operands (by input index; nil when omitted).
    private static func prepareWeights(_ operand: (Int) -> Tensor?, format: RecurrentWeightFormat, directions: Int, gateCount: Int,
                                       groups: [Range<Int>], multiplier: MatrixMultiplier) throws -> [RecurrentWeights] {
        func required(_ index: Int) throws -> Tensor {
            guard let tensor = operand(index) else { throw InferenceError.invalidOperand("required input \(index) is missing") }
            return tensor
        }
        switch format {
        case .float:
            return try prepareWeights(w: try required(1), r: try required(2), b: operand(3), directions: directions, gateCount: gateCount,
                                      groups: groups, multiplier: multiplier)
        case .dynamicallyQuantized:
            guard groups == [0..<gateCount] else {
                throw InferenceError.invalidOperand("8-bit recurrent weights are multiplied whole (LSTM's), not by groups of gates")
            }
            return try DynamicallyQuantizedWeights.recurrentWeights(
                w: try required(1), r: try required(2), b: operand(3), wScale: try required(8), wZero: try required(9), rScale: try required(10),
                rZero: try required(11), directions: directions, gateCount: gateCount, multiplier: multiplier)
        }
    }

    private static func prepareWeights(w: Tensor, r: Tensor, b: Tensor?, directions: Int, gateCount: Int, groups: [Range<Int>],
                                       multiplier: MatrixMultiplier) throws -> [RecurrentWeights] {
        guard w.shape.count == 3, w.shape[0] == directions, w.shape[1] % gateCount == 0 else {
            throw InferenceError.invalidOperand("W must be [\(directions), \(gateCount) x hidden, input], got \(w.shape)")
        }
        let hidden = w.shape[1] / gateCount, inputSize = w.shape[2], gateWidth = gateCount * hidden
        guard r.shape == [directions, gateWidth, hidden] else {
            throw InferenceError.invalidOperand("R must be [\(directions), \(gateWidth), \(hidden)] to match W \(w.shape), got \(r.shape)")
        }
        if let b, b.shape != [directions, 2 * gateWidth] {
            throw InferenceError.invalidOperand("B must be [\(directions), \(2 * gateWidth)], got \(b.shape)")
        }
        let wValues = try w.floatOperand("W"), rValues = try r.floatOperand("R")
        let biases = try b?.floatOperand("B") ?? [Float](repeating: 0, count: directions * 2 * gateWidth)
        return (0..<directions).map { direction in
            let inputWeights = Array(wValues[(direction * gateWidth * inputSize)..<((direction + 1) * gateWidth * inputSize)])
            let recurrentWeights = Array(rValues[(direction * gateWidth * hidden)..<((direction + 1) * gateWidth * hidden)])
            let biasStart = direction * 2 * gateWidth
            return RecurrentWeights(
                input: transposedPacked(inputWeights, rows: gateWidth, columns: inputSize),
                inputBias: Array(biases[biasStart..<(biasStart + gateWidth)]),
                recurrence: groups.map { group in
                    let rows = (group.lowerBound * hidden)..<(group.upperBound * hidden)
                    return transposedPacked(Array(recurrentWeights[(rows.lowerBound * hidden)..<(rows.upperBound * hidden)]),
                                                 rows: rows.count, columns: hidden)
                },
                recurrenceBias: groups.map { group in
                    Array(biases[(biasStart + gateWidth + group.lowerBound * hidden)..<(biasStart + gateWidth + group.upperBound * hidden)])
                },
                multiplier: multiplier)
        }
    }

    private func sequenceLengths(_ tensor: Tensor?, sequence: Int, batch: Int) throws -> [Int] {
        guard let tensor else { return Array(repeating: sequence, count: batch) }
        guard tensor.shape == [batch] else { throw InferenceError.invalidOperand("sequence_lens must be [\(batch)], got \(tensor.shape)") }
        let lengths = tensor.int64s.map { Int($0) }
        guard lengths.allSatisfy({ (0...sequence).contains($0) }) else {
            throw InferenceError.invalidOperand("sequence_lens \(lengths) must lie in 0...\(sequence)")
        }
        return lengths
    }

    /// initial_h or initial_c as [directions, batch, hidden] (zeros when omitted).
    private func initialState(_ tensor: Tensor?, role: String, batch: Int, hiddenSize: Int) throws -> [Float] {
        guard let tensor else { return [Float](repeating: 0, count: directions * batch * hiddenSize) }
        let expected = batchFirst ? [batch, directions, hiddenSize] : [directions, batch, hiddenSize]
        guard tensor.shape == expected else { throw InferenceError.invalidOperand("\(role) must be \(expected), got \(tensor.shape)") }
        return Self.swappingLeadingAxes(try tensor.floatOperand(role), shape: tensor.shape, if: batchFirst)
    }

    /// The [rows, columns] matrix transposed to [columns, rows] and packed as a GEMM's B.
    private static func transposedPacked(_ values: [Float], rows: Int, columns: Int) -> PackedFloatWeights {
        PackedFloatWeights(rowMajor: values.transposedMatrix(rows: rows, columns: columns), depth: columns, columns: rows)
    }

    /// Swaps the first two axes of a 3-D array when `condition` holds (between the two layouts).
    private static func swappingLeadingAxes(_ values: [Float], shape: [Int], if condition: Bool) -> [Float] {
        condition ? permuted(values, shape: shape, order: [1, 0, 2]) : values
    }

    /// The row-major array of `shape` with its axes reordered: output axis i is input axis order[i].
    private static func permuted(_ values: [Float], shape: [Int], order: [Int]) -> [Float] {
        Transpose.permuted(Tensor(shape: shape, floats: values), by: order).floats
    }
}

extension Array where Element == Float {
    /// Adds `bias` to every row (the array holds whole rows of its length).
    mutating func addRowBias(_ bias: [Float]) {
        guard !bias.isEmpty else { return }
        for rowStart in stride(from: 0, to: count, by: bias.count) {
            for (offset, value) in bias.enumerated() { self[rowStart + offset] += value }
        }
    }

    /// Adds `other`, element by element (same count).
    mutating func add(_ other: [Float]) {
        for index in indices { self[index] += other[index] }
    }
}
