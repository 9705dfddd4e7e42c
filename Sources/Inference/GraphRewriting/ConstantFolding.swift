/// Runs at load the nodes whose inputs are all constants and keeps their small results as constants:
/// shape arithmetic, and the DequantizeLinear of weights no integer kernel reads (a depthwise
/// convolution's), which would otherwise be dequantized again on every run. Large results stay
/// computed per run, so a weight-only INT4 model keeps its 8x smaller weights in memory.
extension GraphDefinition {
    /// Results above this many bytes are not kept.
    static let largestFoldedBytes = 64 * 1024

    mutating func foldConstants() {
        var kept: [NodeDefinition] = []
        for node in nodes {
            guard node.inputs.allSatisfy({ $0.isEmpty || constants[$0] != nil }), !node.inputs.allSatisfy(\.isEmpty),
                  let operation = try? OperatorRegistry.makeOperator(for: node, opsets: opsets, constants: constants),
                  operation.isDeterministic,
                  let results = try? operation.outputs(for: node.inputs.map { $0.isEmpty ? nil : constants[$0] }),
                  results.count == node.outputs.count,
                  results.allSatisfy({ $0.storage.residentBytes <= Self.largestFoldedBytes }) else {
                kept.append(node)
                continue
            }
            for (name, value) in zip(node.outputs, results) where !name.isEmpty {
                constants[name] = value
            }
        }
        nodes = kept
        pruneUnreadNodes()
    }
}

private extension Operator {
    func outputs(for inputs: [Tensor?]) throws -> [Tensor] {
        var outputs: [Tensor] = []
        try run(inputs, into: &outputs)
        return outputs
    }
}
