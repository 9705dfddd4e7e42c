/// Runs the layer normalisation that exports before opset 17 spell out in nine nodes (BERT-family
/// encoders: all-MiniLM-L6-v2 has 13 of them) as one LayerNormalization over the last axis:
///
///     d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(Pow(d, 2)) + eps) * gamma + beta
///
/// One pass over the row instead of nine tensors written and read. The intermediate values must
/// have no other reader and gamma, beta and eps must be constants.
extension GraphDefinition {
    mutating func fuseDecomposedLayerNormalizations() {
        let values = ValueReaders(self)
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for mean in nodes where mean.domain.isEmpty && mean.opType == "ReduceMean" && reducesLastAxisOnly(mean) {
            let x = mean.inputs[0]
            guard let centre = values.soleReader(of: mean.outputs[0], "Sub"), centre.inputs == [x, mean.outputs[0]] else { continue }
            let centred = centre.outputs[0]
            let centredReaders = values.readers(of: centred)
            guard centredReaders.count == 2,
                  let square = centredReaders.first(where: { $0.opType == "Pow" && $0.domain.isEmpty }),
                  square.inputs.count == 2, square.inputs[0] == centred, constants[square.inputs[1]]?.floats == [2],
                  let variance = values.soleReader(of: square.outputs[0], "ReduceMean"), reducesLastAxisOnly(variance),
                  let shifted = values.soleReader(of: variance.outputs[0], "Add"),
                  let epsilon = shifted.inputs.first(where: { $0 != variance.outputs[0] }).flatMap({ constants[$0]?.floats }),
                  epsilon.count == 1,
                  let root = values.soleReader(of: shifted.outputs[0], "Sqrt"),
                  let normalized = values.soleReader(of: root.outputs[0], "Div"), normalized.inputs == [centred, root.outputs[0]],
                  let scaled = values.soleReader(of: normalized.outputs[0], "Mul"),
                  let gamma = scaled.inputs.first(where: { $0 != normalized.outputs[0] }), constants[gamma] != nil,
                  let shiftedOutput = values.soleReader(of: scaled.outputs[0], "Add"),
                  let beta = shiftedOutput.inputs.first(where: { $0 != scaled.outputs[0] }), constants[beta] != nil,
                  let last = values.producers[shiftedOutput.outputs[0]]
            else { continue }
            let chain = [mean, centre, square, variance, shifted, root, normalized, scaled].compactMap { values.producers[$0.outputs[0]] }
            guard chain.allSatisfy({ !removed.contains($0) && replaced[$0] == nil }) else { continue }
            removed.formUnion(chain)
            replaced[last] = NodeDefinition(
                name: shiftedOutput.name, opType: "LayerNormalization", domain: "", inputs: [x, gamma, beta],
                outputs: shiftedOutput.outputs,
                attributes: NodeAttributes(node: shiftedOutput.name, values: ["axis": .int(-1), "epsilon": .float(epsilon[0])]),
                isRewritten: true)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }

    /// A ReduceMean over the last axis alone that keeps it (axes [-1], as an attribute or a constant input).
    private func reducesLastAxisOnly(_ node: NodeDefinition) -> Bool {
        guard ((try? node.attributes.int("keepdims", default: 1)) ?? 0) != 0, !node.inputs.isEmpty else { return false }
        let axes = node.inputs.count > 1 ? constants[node.inputs[1]]?.int64s.map(Int.init) : ((try? node.attributes.ints("axes")) ?? nil)
        return axes == [-1]
    }
}
