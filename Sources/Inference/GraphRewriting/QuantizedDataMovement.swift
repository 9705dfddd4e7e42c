/// Runs the ops that only move or select values on the quantized values themselves, when a QDQ
/// graph wraps them in a DequantizeLinear and a QuantizeLinear of the same per-tensor scale and zero
/// point:
///
///     DequantizeLinear(q, s, z) -> Transpose -> QuantizeLinear(s, z)   becomes   Transpose(q)
///
/// Quantizing a dequantized value with the same parameters returns it exactly, and these ops neither
/// compute new values nor reorder them in value (MaxPool is monotonic), so the result is the same
/// bits with one pass over 8-bit values instead of three over floats. A ShuffleNet quantized with
/// its channel shuffles between ops (Reshape -> Transpose -> Reshape) spent a third of its time in
/// those round trips. onnxruntime's QDQ transformer drops the same pairs.
extension GraphDefinition {
    /// Ops whose output elements are input elements (or, for MaxPool, the largest of some).
    private static let valuePreservingOps: Set<String> = ["Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "MaxPool"]

    mutating func runDataMovementOnQuantizedValues() {
        let values = ValueReaders(self)
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for (index, node) in nodes.enumerated() where node.domain.isEmpty && Self.valuePreservingOps.contains(node.opType) {
            guard node.outputs.count == 1, let data = node.inputs.first,
                  let dequantizing = values.producers[data], nodes[dequantizing].opType == "DequantizeLinear",
                  nodes[dequantizing].domain.isEmpty, values.readers(of: data).count == 1,
                  let quantize = values.soleReader(of: node.outputs[0], "QuantizeLinear"),
                  let quantizing = values.producers[quantize.outputs[0]],
                  quantizesAlike(nodes[dequantizing], quantize)
            else { continue }
            removed.formUnion([dequantizing, quantizing])
            replaced[index] = NodeDefinition(name: node.name, opType: node.opType, domain: "",
                                             inputs: [nodes[dequantizing].inputs[0]] + node.inputs.dropFirst(),
                                             outputs: quantize.outputs, attributes: node.attributes, isRewritten: true)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }

    /// Whether `quantize` maps `dequantize`'s output back to its input exactly: both per tensor,
    /// with equal constant scales and equal constant 8-bit zero points (of one element type).
    private func quantizesAlike(_ dequantize: NodeDefinition, _ quantize: NodeDefinition) -> Bool {
        guard dequantize.inputs.count == 3, quantize.inputs.count == 3,
              let scale = constants[dequantize.inputs[1]], scale.count == 1,
              let otherScale = constants[quantize.inputs[1]], otherScale.count == 1,
              let zero = constants[dequantize.inputs[2]], zero.count == 1, [.uint8, .int8].contains(zero.elementType),
              let otherZero = constants[quantize.inputs[2]], otherZero.count == 1, otherZero.elementType == zero.elementType
        else { return false }
        return scale.floats == otherScale.floats && zero.floats == otherZero.floats
    }
}
