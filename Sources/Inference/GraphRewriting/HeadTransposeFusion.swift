/// Runs attention's head transposes inside the products that read or write them. Transformer
/// exports split heads as Reshape [B, S, H, D] -> Transpose(0, 2, 1, 3) -> MatMul and join them as
/// MatMul -> Transpose(0, 2, 1, 3) -> Reshape; each Transpose copies a whole activation (MiniLM: 18
/// of its 24 Transposes, 7 % of an INT8 run at batch 32). A head's matrix is a strided view of the
/// untransposed tensor (its rows H x D apart), which the GEMM reads and writes directly, so a float
/// MatMul whose operand comes from such a Transpose (read by nothing else), or whose output only feeds
/// one, becomes one HeadMatMul with `swap_a`, `swap_b`, `swap_c` naming the operands stored with axes
/// 1 and 2 swapped.
extension GraphDefinition {
    mutating func fuseHeadTransposes() {
        let values = ValueReaders(self)
        func isHeadTranspose(_ node: NodeDefinition) -> Bool {
            node.domain.isEmpty && node.opType == "Transpose" && (try? node.attributes.ints("perm")) == [0, 2, 1, 3]
        }
        /// The untransposed source of `value` when a head Transpose makes it for this product alone.
        func headSource(_ value: String) -> (source: String, transpose: Int)? {
            guard let index = values.producers[value], isHeadTranspose(nodes[index]), values.readers(of: value).count == 1
            else { return nil }
            return (nodes[index].inputs[0], index)
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for (index, product) in nodes.enumerated()
        where product.domain.isEmpty && product.opType == "MatMul" && product.inputs.count == 2 && constants[product.inputs[1]] == nil {
            let a = headSource(product.inputs[0]), b = headSource(product.inputs[1])
            let joined = values.soleReader(of: product.outputs[0], "Transpose").flatMap { isHeadTranspose($0) ? $0 : nil }
            guard a != nil || b != nil || joined != nil else { continue }
            var attributes: [String: AttributeValue] = [:]
            for (name, swapped) in [("swap_a", a != nil), ("swap_b", b != nil), ("swap_c", joined != nil)] where swapped {
                attributes[name] = .int(1)
            }
            removed.formUnion([a?.transpose, b?.transpose, joined.flatMap { values.producers[$0.outputs[0]] }].compactMap { $0 })
            replaced[index] = NodeDefinition(
                name: product.name, opType: "HeadMatMul", domain: QDQFusion.domain,
                inputs: [a?.source ?? product.inputs[0], b?.source ?? product.inputs[1]], outputs: joined?.outputs ?? product.outputs,
                attributes: NodeAttributes(node: product.name, values: attributes))
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
