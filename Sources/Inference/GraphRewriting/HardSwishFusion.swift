/// Runs the hard swish that exports spell out in four nodes (MobileNetV3 backbones such as the
/// PP-OCR text detector's) as one HardSwish, one pass over the tensor instead of four:
///
///     y = x * Clip(x + 3, 0, 6) / 6
///
/// as Add(x, 3) -> Clip(min 0, max 6) -> Mul(x, _) -> Div(6) or Mul(1/6), the operands of Add and
/// Mul in either order, Clip's bounds as attributes (before opset 11) or constant inputs. The
/// intermediate values must have no other reader.
extension GraphDefinition {
    mutating func fuseDecomposedHardSwishes() {
        let values = ValueReaders(self)
        func scalar(_ name: String?) -> Float? {
            guard let name, let values = constants[name]?.floats, values.count == 1 else { return nil }
            return values[0]
        }
        /// The operand of a two-input node other than `value`.
        func other(_ node: NodeDefinition, besides value: String) -> String? {
            node.inputs.count == 2 ? node.inputs.first { $0 != value } : nil
        }
        func clipsToSix(_ clip: NodeDefinition) -> Bool {
            let low = clip.inputs.count > 1 ? scalar(clip.inputs[1]) : (try? clip.attributes.float("min", default: .nan))
            let high = clip.inputs.count > 2 ? scalar(clip.inputs[2]) : (try? clip.attributes.float("max", default: .nan))
            return low == 0 && high == 6
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for shift in nodes where shift.domain.isEmpty && shift.opType == "Add" && shift.inputs.count == 2 {
            guard let x = shift.inputs.first(where: { scalar($0) != 3 }), scalar(other(shift, besides: x)) == 3,
                  let clip = values.soleReader(of: shift.outputs[0], "Clip"), clipsToSix(clip),
                  let product = values.readers(of: clip.outputs[0]).first, values.readers(of: clip.outputs[0]).count == 1,
                  product.domain.isEmpty, product.opType == "Mul", Set(product.inputs) == [x, clip.outputs[0]],
                  let scale = values.readers(of: product.outputs[0]).first, values.readers(of: product.outputs[0]).count == 1,
                  scale.domain.isEmpty, scale.inputs.first == product.outputs[0],
                  (scale.opType == "Div" && scalar(scale.inputs.last) == 6)
                    || (scale.opType == "Mul" && scalar(other(scale, besides: product.outputs[0])).map { abs($0 - 1 / 6) < 1e-7 } == true),
                  let last = values.producers[scale.outputs[0]]
            else { continue }
            let chain = [shift, clip, product].compactMap { values.producers[$0.outputs[0]] }
            guard chain.allSatisfy({ !removed.contains($0) && replaced[$0] == nil }) else { continue }
            removed.formUnion(chain)
            replaced[last] = NodeDefinition(name: scale.name, opType: "HardSwish", domain: "", inputs: [x], outputs: scale.outputs,
                                            attributes: NodeAttributes(node: scale.name, values: [:]), isRewritten: true)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
