/// Folds the bias that exports add after a matrix product, Add(MatMulIntegerToFloat(...), bias) with
/// a constant float bias of one value per output column ([N], or [1, ..., 1, N]: the fused product
/// then broadcasts its output to the bias's rank as the Add did), into MatMulIntegerToFloat's own bias
/// operand: the kernel adds it while converting the int32 products, so the output is written once
/// instead of twice. quantize_dynamic and torch exports both leave the bias as a separate Add.
extension GraphDefinition {
    mutating func fuseMatMulBiases() {
        let values = ValueReaders(self)
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for (index, product) in nodes.enumerated()
        where product.domain == "com.microsoft" && product.opType == "MatMulIntegerToFloat"
            && product.inputs.count >= 4 && (product.inputs.count < 7 || product.inputs[6].isEmpty) {
            guard let columns = constants[product.inputs[1]]?.shape.last,
                  let add = values.soleReader(of: product.outputs[0], "Add"), add.inputs.count == 2,
                  let biasName = add.inputs.first(where: { $0 != product.outputs[0] }),
                  let bias = constants[biasName], bias.elementType == .float32,
                  bias.shape.last == columns, bias.count == columns,
                  let addIndex = values.producers[add.outputs[0]]
            else { continue }
            let operands = product.inputs + Array(repeating: "", count: max(0, 6 - product.inputs.count))
            replaced[index] = NodeDefinition(name: product.name, opType: product.opType, domain: product.domain,
                                             inputs: Array(operands.prefix(6)) + [biasName], outputs: add.outputs,
                                             attributes: product.attributes)
            removed.insert(addIndex)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
