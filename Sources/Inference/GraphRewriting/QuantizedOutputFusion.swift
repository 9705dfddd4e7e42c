/// A ConvIntegerToFloat whose float output only a QuantizeLinear reads (per tensor, constant scale,
/// uint8 zero point) becomes one ConvIntegerToQuantized, which quantizes each tile of its result
/// while the tile is in cache and writes the uint8 levels: the same two steps, the same bits, and no
/// float tensor written to memory and read back. In a QDQ graph this is every convolution whose
/// output goes straight to the next quantized op (ShuffleNet's grouped 1x1 convolutions before each
/// channel shuffle).
extension GraphDefinition {
    mutating func fuseOutputQuantizations() {
        let values = ValueReaders(self)
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for (index, node) in nodes.enumerated() where node.domain == QDQFusion.domain && node.opType == "ConvIntegerToFloat" {
            guard let quantize = values.soleReader(of: node.outputs[0], "QuantizeLinear"), quantize.inputs.count == 3,
                  quantize.inputs[0] == node.outputs[0], constants[quantize.inputs[1]]?.count == 1,
                  let zero = constants[quantize.inputs[2]], zero.count == 1, zero.elementType == .uint8,
                  let quantizing = values.producers[quantize.outputs[0]]
            else { continue }
            let operands = node.inputs + Array(repeating: "", count: max(0, 8 - node.inputs.count))
            removed.insert(quantizing)
            replaced[index] = NodeDefinition(name: node.name, opType: "ConvIntegerToQuantized", domain: QDQFusion.domain,
                                             inputs: operands + quantize.inputs[1...2], outputs: quantize.outputs,
                                             attributes: node.attributes, isRewritten: true)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
