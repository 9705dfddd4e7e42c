/// Runs the layer normalisation that exports before opset 17 spell out in nine nodes (BERT-family
/// encoders: all-MiniLM-L6-v2 has 13 of them) as one LayerNormalization over the last axis:
///
///     d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(Pow(d, 2)) + eps) * gamma + beta
///
/// One pass over the row instead of nine tensors written and read. The intermediate values must
/// have no other reader and gamma, beta and eps must be constants.
extension GraphDefinition {
    mutating func fuseDecomposedLayerNormalizations() {
        var producers: [String: Int] = [:], readers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs { producers[output] = index }
            for input in node.inputs where !input.isEmpty { readers[input, default: []].append(index) }
        }
        let graphOutputs = Set(outputs.map(\.name))
        /// The one node reading `value`, when it is of `opType` in the default domain and `value` is no graph output.
        func soleReader(of value: String, _ opType: String) -> NodeDefinition? {
            guard !graphOutputs.contains(value), let reading = readers[value], reading.count == 1 else { return nil }
            let node = nodes[reading[0]]
            return node.domain.isEmpty && node.opType == opType ? node : nil
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for mean in nodes where mean.domain.isEmpty && mean.opType == "ReduceMean" && reducesLastAxisOnly(mean) {
            let x = mean.inputs[0]
            guard let centre = soleReader(of: mean.outputs[0], "Sub"), centre.inputs == [x, mean.outputs[0]] else { continue }
            let centred = centre.outputs[0]
            guard !graphOutputs.contains(centred), let centredReaders = readers[centred], centredReaders.count == 2,
                  let square = centredReaders.map({ nodes[$0] }).first(where: { $0.opType == "Pow" && $0.domain.isEmpty }),
                  square.inputs.count == 2, square.inputs[0] == centred, constants[square.inputs[1]]?.floats == [2],
                  let variance = soleReader(of: square.outputs[0], "ReduceMean"), reducesLastAxisOnly(variance),
                  let shifted = soleReader(of: variance.outputs[0], "Add"),
                  let epsilon = shifted.inputs.first(where: { $0 != variance.outputs[0] }).flatMap({ constants[$0]?.floats }),
                  epsilon.count == 1,
                  let root = soleReader(of: shifted.outputs[0], "Sqrt"),
                  let normalized = soleReader(of: root.outputs[0], "Div"), normalized.inputs == [centred, root.outputs[0]],
                  let scaled = soleReader(of: normalized.outputs[0], "Mul"),
                  let gamma = scaled.inputs.first(where: { $0 != normalized.outputs[0] }), constants[gamma] != nil,
                  let shiftedOutput = soleReader(of: scaled.outputs[0], "Add"),
                  let beta = shiftedOutput.inputs.first(where: { $0 != scaled.outputs[0] }), constants[beta] != nil,
                  let last = producers[shiftedOutput.outputs[0]]
            else { continue }
            let chain = [mean, centre, square, variance, shifted, root, normalized, scaled].compactMap { producers[$0.outputs[0]] }
            guard chain.allSatisfy({ !removed.contains($0) && replaced[$0] == nil }) else { continue }
            removed.formUnion(chain)
            replaced[last] = NodeDefinition(
                name: shiftedOutput.name, opType: "LayerNormalization", domain: "", inputs: [x, gamma, beta],
                outputs: shiftedOutput.outputs,
                attributes: NodeAttributes(node: shiftedOutput.name, values: ["axis": .int(-1), "epsilon": .float(epsilon[0])]))
        }
        guard !replaced.isEmpty else { return }
        nodes = nodes.enumerated().compactMap { index, node in removed.contains(index) ? nil : replaced[index] ?? node }
    }

    /// A ReduceMean over the last axis alone that keeps it (axes [-1], as an attribute or a constant input).
    private func reducesLastAxisOnly(_ node: NodeDefinition) -> Bool {
        guard ((try? node.attributes.int("keepdims", default: 1)) ?? 0) != 0, !node.inputs.isEmpty else { return false }
        let axes = node.inputs.count > 1 ? constants[node.inputs[1]]?.int64s.map(Int.init) : ((try? node.attributes.ints("axes")) ?? nil)
        return axes == [-1]
    }
}
