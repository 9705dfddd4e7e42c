/// Runs scaled dot-product attention head by head in one operator. Exports write it as
///
///     HeadMatMul(Q, K^T) -> Div(c) or Mul(c) -> Add(mask) -> Softmax(last axis) -> HeadMatMul(_, V)
///
/// (the HeadMatMuls as fuseHeadTransposes leaves them), and node by node every step streams the
/// whole [B, H, S, S] score tensor through memory: 25 MB at MiniLM batch 32, where attention then
/// cost 2.4x per sequence what it cost at batch 1. HeadAttention keeps one head's scores in a
/// cache-sized buffer from the first product to the second. The scores, scaled and masked values
/// and the softmax must have no other reader; the scale is a constant scalar.
extension GraphDefinition {
    mutating func fuseAttentionHeads() {
        let values = ValueReaders(self)
        func isHeadProduct(_ node: NodeDefinition) -> Bool { node.domain == QDQFusion.domain && node.opType == "HeadMatMul" }
        func swapped(_ node: NodeDefinition, _ name: String) -> Bool { (try? node.attributes.int(name, default: 0)) == 1 }
        func isScalarConstant(_ name: String) -> Bool {
            constants[name].map { $0.count == 1 && $0.shape.count <= 1 && $0.elementType == .float32 } ?? false
        }
        /// The last axis: -1 or 3, given or (from opset 13 on) by default.
        func overLastAxis(_ softmax: NodeDefinition) -> Bool {
            let defaultAxis = (opsets[""] ?? 13) >= 13 ? -1 : 1  // before opset 13: axis 1, trailing axes flattened
            guard let axis = try? softmax.attributes.int("axis", default: defaultAxis) else { return false }
            return axis == -1 || axis == 3
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for (index, scores) in nodes.enumerated() where isHeadProduct(scores) && !swapped(scores, "swap_c") {
            let scaling = values.readers(of: scores.outputs[0])
            guard scaling.count == 1, let scale = scaling.first, scale.domain.isEmpty, scale.inputs.count == 2,
                  (scale.opType == "Div" && scale.inputs[0] == scores.outputs[0] && isScalarConstant(scale.inputs[1]))
                    || (scale.opType == "Mul" && scale.inputs.contains(scores.outputs[0])
                        && scale.inputs.contains(where: { $0 != scores.outputs[0] && isScalarConstant($0) })),
                  let add = values.soleReader(of: scale.outputs[0], "Add"), add.inputs.count == 2,
                  let mask = add.inputs.first(where: { $0 != scale.outputs[0] }),
                  let softmax = values.soleReader(of: add.outputs[0], "Softmax"), overLastAxis(softmax),
                  values.readers(of: softmax.outputs[0]).count == 1, let context = values.readers(of: softmax.outputs[0]).first,
                  isHeadProduct(context), context.inputs[0] == softmax.outputs[0], !swapped(context, "swap_a"),
                  let contextIndex = values.producers[context.outputs[0]]
            else { continue }
            let factor = scale.inputs.first { $0 != scores.outputs[0] }!
            var attributes: [String: AttributeValue] = ["divide": .int(scale.opType == "Div" ? 1 : 0)]
            for (name, node, flag) in [("q_swapped", scores, "swap_a"), ("k_swapped", scores, "swap_b"),
                                       ("v_swapped", context, "swap_b"), ("out_swapped", context, "swap_c")] {
                attributes[name] = .int(swapped(node, flag) ? 1 : 0)
            }
            removed.formUnion([index] + [scale, add, softmax].compactMap { values.producers[$0.outputs[0]] })
            replaced[contextIndex] = NodeDefinition(
                name: context.name, opType: "HeadAttention", domain: QDQFusion.domain,
                inputs: [scores.inputs[0], scores.inputs[1], context.inputs[1], mask, factor], outputs: context.outputs,
                attributes: NodeAttributes(node: context.name, values: attributes))
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
