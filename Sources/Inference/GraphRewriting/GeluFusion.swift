/// Runs the exact GELU that exports before opset 20 spell out in five nodes as one Gelu (our C
/// kernel computes it in one pass):
///
///     y = x * (Erf(x / sqrt(2)) + 1) * 0.5
///
/// as Div(x, 1.41421...) -> Erf -> Add(1) -> Mul(x, _) -> Mul(0.5), the operands of Add and Mul in
/// either order. The intermediate values must have no other reader.
extension GraphDefinition {
    mutating func fuseDecomposedGelus() {
        let values = ValueReaders(self)
        /// The operand of a two-input node other than `value`, when it is the scalar constant `expected`.
        func otherIsConstant(_ node: NodeDefinition, besides value: String, _ expected: Float) -> Bool {
            node.inputs.first { $0 != value }.flatMap { constants[$0]?.floats } == [expected]
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for divide in nodes where divide.domain.isEmpty && divide.opType == "Div" && divide.inputs.count == 2 {
            let x = divide.inputs[0]
            guard let root = constants[divide.inputs[1]]?.floats, root.count == 1, abs(root[0] - Float(2).squareRoot()) < 1e-6,
                  let erf = values.soleReader(of: divide.outputs[0], "Erf"),
                  let plusOne = values.soleReader(of: erf.outputs[0], "Add"), otherIsConstant(plusOne, besides: erf.outputs[0], 1),
                  let product = values.soleReader(of: plusOne.outputs[0], "Mul"), Set(product.inputs) == [x, plusOne.outputs[0]],
                  let half = values.soleReader(of: product.outputs[0], "Mul"), otherIsConstant(half, besides: product.outputs[0], 0.5),
                  let last = values.producers[half.outputs[0]]
            else { continue }
            let chain = [divide, erf, plusOne, product].compactMap { values.producers[$0.outputs[0]] }
            guard chain.allSatisfy({ !removed.contains($0) && replaced[$0] == nil }) else { continue }
            removed.formUnion(chain)
            replaced[last] = NodeDefinition(name: half.name, opType: "Gelu", domain: "", inputs: [x], outputs: half.outputs,
                                            attributes: NodeAttributes(node: half.name, values: [:]), isRewritten: true)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
