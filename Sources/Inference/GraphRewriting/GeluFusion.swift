/// Runs the exact GELU that exports before opset 20 spell out in five nodes as one Gelu (our C
/// kernel computes it in one pass):
///
///     y = x * (Erf(x / sqrt(2)) + 1) * 0.5
///
/// as Div(x, 1.41421...) -> Erf -> Add(1) -> Mul(x, _) -> Mul(0.5), the operands of Add and Mul in
/// either order. The intermediate values must have no other reader.
extension GraphDefinition {
    mutating func fuseDecomposedGelus() {
        var producers: [String: Int] = [:], readers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs { producers[output] = index }
            for input in node.inputs where !input.isEmpty { readers[input, default: []].append(index) }
        }
        let graphOutputs = Set(outputs.map(\.name))
        func soleReader(of value: String, _ opType: String) -> NodeDefinition? {
            guard !graphOutputs.contains(value), let reading = readers[value], reading.count == 1 else { return nil }
            let node = nodes[reading[0]]
            return node.domain.isEmpty && node.opType == opType && node.inputs.count == 2 ? node : nil
        }
        /// The operand of a two-input node other than `value`, when it is the scalar constant `expected`.
        func otherIsConstant(_ node: NodeDefinition, besides value: String, _ expected: Float, tolerance: Float = 0) -> Bool {
            guard let other = node.inputs.first(where: { $0 != value }), let constant = constants[other]?.floats,
                  constant.count == 1 else { return false }
            return abs(constant[0] - expected) <= tolerance
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for divide in nodes where divide.domain.isEmpty && divide.opType == "Div" && divide.inputs.count == 2 {
            let x = divide.inputs[0]
            guard let root = constants[divide.inputs[1]]?.floats, root.count == 1, abs(root[0] - Float(2).squareRoot()) < 1e-6,
                  let erf = readers[divide.outputs[0]].flatMap({ $0.count == 1 ? nodes[$0[0]] : nil }),
                  erf.domain.isEmpty, erf.opType == "Erf", !graphOutputs.contains(divide.outputs[0]),
                  let plusOne = soleReader(of: erf.outputs[0], "Add"), otherIsConstant(plusOne, besides: erf.outputs[0], 1),
                  let product = soleReader(of: plusOne.outputs[0], "Mul"), Set(product.inputs) == [x, plusOne.outputs[0]],
                  let half = soleReader(of: product.outputs[0], "Mul"), otherIsConstant(half, besides: product.outputs[0], 0.5),
                  let last = producers[half.outputs[0]]
            else { continue }
            let chain = [divide, erf, plusOne, product].compactMap { producers[$0.outputs[0]] }
            guard chain.allSatisfy({ !removed.contains($0) && replaced[$0] == nil }) else { continue }
            removed.formUnion(chain)
            replaced[last] = NodeDefinition(name: half.name, opType: "Gelu", domain: "", inputs: [x], outputs: half.outputs,
                                            attributes: NodeAttributes(node: half.name, values: [:]))
        }
        guard !replaced.isEmpty else { return }
        nodes = nodes.enumerated().compactMap { index, node in removed.contains(index) ? nil : replaced[index] ?? node }
    }
}
