/// Scan (opset 8 with a batch axis, 9 on without): runs its body once per position along each scan
/// input's axis (forward or reversed), carrying state values from step to step, and stacks the
/// body's scan outputs along their axes.
struct Scan: ValueOperator {
    let body: SubgraphRunner
    let implicitCount: Int
    let scanInputCount: Int
    let inputAxes: [Int]?
    let inputDirections: [Int]?
    let outputAxes: [Int]?
    let outputDirections: [Int]?
    /// Opset 8: axis 0 of every operand is a batch, and input 0 the optional sequence lengths.
    let batched: Bool

    init(_ context: OperatorContext) throws {
        body = try context.subgraph("body")
        implicitCount = context.node.implicitInputCount
        scanInputCount = try context.attributes.requiredInt("num_scan_inputs")
        inputAxes = try context.attributes.ints("scan_input_axes")
        inputDirections = try context.attributes.ints(context.opset < 9 ? "directions" : "scan_input_directions")
        outputAxes = try context.attributes.ints("scan_output_axes")
        outputDirections = try context.attributes.ints("scan_output_directions")
        batched = context.opset < 9
    }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        let (values, outer) = inputs.splittingImplicit(implicitCount)
        // Scan's own operands are tensors; only the outer values its body reads may be sequences.
        let explicit = try values.map { value in try value.map { try [$0].requiredTensor(0) } }
        guard batched else {
            outputs.append(contentsOf: try scan(explicit.indices.map { try explicit.required($0) }, outer: outer).map(Value.tensor))
            return
        }
        let operands = try explicit.indices.dropFirst().map { try explicit.required($0) }
        if let lengths = explicit.first ?? nil, let full = operands.last?.shape.dropFirst().first,
           !lengths.int64s.allSatisfy({ $0 == Int64(full) }) {
            throw InferenceError.invalidOperand("Scan-8 sequence_lens shorter than the sequence are not supported")
        }
        let batch = operands.first?.shape.first ?? 0
        let perBatch = try (0..<batch).map { index in try scan(operands.map { $0.slice(at: index, along: 0) }, outer: outer) }
        for output in perBatch.first?.indices ?? 0..<0 { outputs.append(.tensor(try Tensor.stacked(perBatch.map { $0[output] }, axis: 0))) }
    }

    private func scan(_ operands: [Tensor], outer: [Value?]) throws -> [Tensor] {
        let stateCount = operands.count - scanInputCount
        guard stateCount >= 0 else { throw InferenceError.invalidOperand("num_scan_inputs \(scanInputCount) exceeds the \(operands.count) operands") }
        var states = Array(operands[..<stateCount])
        let sequences = Array(operands[stateCount...])
        let axes = try sequences.indices.map { try normalizedAxis(inputAxes?[$0] ?? 0, rank: sequences[$0].shape.count) }
        let lengths = Set(zip(sequences, axes).map { $0.shape[$1] })
        guard lengths.count <= 1 else { throw InferenceError.invalidOperand("scan inputs have different lengths \(lengths.sorted())") }
        let length = lengths.first ?? 0
        let scanOutputCount = body.outputNames.count - stateCount
        var scanned = [[Tensor]](repeating: [], count: scanOutputCount)
        for step in 0..<length {
            let slices = sequences.indices.map { index in
                let position = (inputDirections?[index] ?? 0) == 1 ? length - 1 - step : step
                return sequences[index].slice(at: position, along: axes[index])
            }
            let results = try body.run(tensors: states + slices, outer: outer)
            states = Array(results[..<stateCount])
            for (index, value) in results[stateCount...].enumerated() { scanned[index].append(value) }
        }
        return try states + scanned.enumerated().map { index, values in
            let ordered = (outputDirections?[index] ?? 0) == 1 ? values.reversed() : values
            let axis = outputAxes?[index] ?? 0
            return try Tensor.stacked(ordered, axis: axis < 0 ? axis + (values.first?.shape.count ?? 0) + 1 : axis)
        }
    }
}
