/// Runs the activation that follows a float convolution inside it: Conv -> Relu, Clip (constant
/// bounds) or LeakyRelu becomes one FusedConv (com.microsoft, as onnxruntime's optimizer writes it),
/// which applies the activation to each tile of outputs while the product has it in cache, instead
/// of a second pass over the whole tensor. The convolution's output must have no other reader.
extension GraphDefinition {
    mutating func fuseConvActivations() {
        let values = ValueReaders(self)
        func constant(_ name: String?) -> Float? {
            guard let name, !name.isEmpty, let values = constants[name]?.floats, values.count == 1 else { return nil }
            return values[0]
        }
        /// FusedConv's activation and parameters for an activation node, nil for one it does not run.
        func activation(_ node: NodeDefinition) -> (name: String, parameters: [Float])? {
            guard node.domain.isEmpty else { return nil }
            switch node.opType {
            case "Relu": return ("Relu", [])
            case "LeakyRelu": return (try? node.attributes.float("alpha", default: 0.01)).map { ("LeakyRelu", [$0]) }
            case "Clip":
                // Bounds as inputs from opset 11 (each optional), as attributes before.
                let low = node.inputs.count > 1 ? (node.inputs[1].isEmpty ? -Float.infinity : constant(node.inputs[1]))
                                                : try? node.attributes.float("min", default: -.infinity)
                let high = node.inputs.count > 2 ? (node.inputs[2].isEmpty ? Float.infinity : constant(node.inputs[2]))
                                                 : try? node.attributes.float("max", default: .infinity)
                guard let low, let high else { return nil }
                return ("Clip", [low, high])
            default: return nil
            }
        }
        var replaced: [Int: NodeDefinition] = [:], removed = Set<Int>()
        for (index, conv) in nodes.enumerated() where conv.domain.isEmpty && conv.opType == "Conv" {
            let readers = values.readers(of: conv.outputs[0])
            guard readers.count == 1, let (name, parameters) = activation(readers[0]),
                  let activationIndex = values.producers[readers[0].outputs[0]]
            else { continue }
            var attributes = conv.attributes.values
            attributes["activation"] = .string(name)
            if !parameters.isEmpty { attributes["activation_params"] = .floats(parameters) }
            replaced[index] = NodeDefinition(name: conv.name, opType: "FusedConv", domain: "com.microsoft", inputs: conv.inputs,
                                             outputs: readers[0].outputs, attributes: NodeAttributes(node: conv.name, values: attributes),
                                             isRewritten: true)
            removed.insert(activationIndex)
        }
        replaceNodes(removing: removed, replacing: replaced)
    }
}
