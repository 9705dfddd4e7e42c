/// Folds an inference-mode BatchNormalization into the Conv or ConvTranspose that feeds it, at
/// load: the per-channel affine map y = m * x + (bias - mean * m), with m = scale / sqrt(var + eps),
/// moves into the weights and bias, so the normalisation costs nothing per inference. Run again
/// after QDQ fusion, it folds into a ConvIntegerToFloat's weight scales and bias instead (a QDQ
/// Conv's weights are not constants before fusion).
extension GraphDefinition {
    mutating func foldBatchNormalizations() {
        var readers: [String: Int] = [:]
        for node in nodes { for input in node.inputs where !input.isEmpty { readers[input, default: 0] += 1 } }
        let graphOutputs = Set(outputs.map(\.name))
        var producers: [String: Int] = [:]
        for (index, node) in nodes.enumerated() { for output in node.outputs { producers[output] = index } }

        var removed = Set<Int>()
        for (index, normalization) in nodes.enumerated() where normalization.isFoldableBatchNormalization {
            let convolutionOutput = normalization.inputs[0]
            guard readers[convolutionOutput] == 1, !graphOutputs.contains(convolutionOutput),
                  let producer = producers[convolutionOutput], !removed.contains(producer),
                  let folded = folded(nodes[producer], into: normalization) else { continue }
            nodes[producer] = folded
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        let stillRead = Set(nodes.flatMap(\.inputs)).union(graphOutputs)
        constants = constants.filter { stillRead.contains($0.key) }
    }

    /// The convolution with the normalisation's affine map folded in, writing the normalisation's
    /// output; nil when an operand is not a float constant of the expected size.
    private mutating func folded(_ convolution: NodeDefinition, into normalization: NodeDefinition) -> NodeDefinition? {
        if convolution.domain == QDQFusion.domain, convolution.opType == "ConvIntegerToFloat" {
            return foldedIntoScales(convolution, normalization)
        }
        let isTransposed = convolution.opType == "ConvTranspose"
        guard convolution.domain.isEmpty, convolution.opType == "Conv" || isTransposed,
              convolution.outputs.count == 1, convolution.inputs.count >= 2,
              let weights = constants[convolution.inputs[1]], weights.shape.count >= 3,
              weights.elementType == .float32 || weights.elementType == .float16,
              let parameters = try? (1...4).map({ try constants[normalization.inputs[$0]].map { try $0.floatOperand("BN") } }),
              let epsilon = try? normalization.attributes.float("epsilon", default: 1e-5) else { return nil }
        let groups = (try? convolution.attributes.int("group", default: 1)) ?? 1
        let filters = isTransposed ? weights.shape[1] * groups : weights.shape[0]
        let bias = convolution.inputs.count > 2 && !convolution.inputs[2].isEmpty ? constants[convolution.inputs[2]]?.floats : nil
        guard let scale = parameters[0], let shift = parameters[1], let mean = parameters[2], let variance = parameters[3],
              [scale, shift, mean, variance].allSatisfy({ $0.count == filters }), bias.map({ $0.count == filters }) ?? true,
              convolution.inputs.count < 3 || convolution.inputs[2].isEmpty || bias != nil else { return nil }

        let (multipliers, newBias) = Self.affineMap(scale: scale, shift: shift, mean: mean, variance: variance,
                                                    epsilon: epsilon, bias: bias)
        var values = weights.floats
        let inner = weights.shape.dropFirst(2).reduce(1, *)
        for index in values.indices {
            // Conv weights are [M, C/group, k...]; ConvTranspose weights [C, M/group, k...].
            let filter: Int
            if isTransposed {
                let (channel, groupFilter) = (index / (weights.shape[1] * inner), (index / inner) % weights.shape[1])
                filter = channel / (weights.shape[0] / groups) * weights.shape[1] + groupFilter
            } else {
                filter = index / (weights.shape[1] * inner)
            }
            values[index] *= multipliers[filter]
        }

        let prefix = "\(normalization.name)/folded"
        let (weightName, biasName) = (uniqueConstantName("\(prefix)_W"), uniqueConstantName("\(prefix)_B"))
        constants[weightName] = Tensor(shape: weights.shape, floats: values, as: weights.elementType)
        constants[biasName] = Tensor(shape: [filters], floats: newBias, as: weights.elementType)
        return NodeDefinition(name: convolution.name, opType: convolution.opType, domain: convolution.domain,
                              inputs: [convolution.inputs[0], weightName, biasName], outputs: normalization.outputs,
                              attributes: convolution.attributes)
    }

    /// ConvIntegerToFloat(x, w, x_scale, w_scale, x_zero, w_zero, bias): y = acc x w_scale + bias per
    /// filter, so the map scales w_scale and the bias.
    private mutating func foldedIntoScales(_ convolution: NodeDefinition, _ normalization: NodeDefinition) -> NodeDefinition? {
        guard convolution.outputs.count == 1, convolution.inputs.count >= 4,
              let weights = constants[convolution.inputs[1]], weights.shape.count >= 3,
              let scales = try? constants[convolution.inputs[3]]?.floatOperand("w_scale"),
              let parameters = try? (1...4).map({ try constants[normalization.inputs[$0]].map { try $0.floatOperand("BN") } }),
              let epsilon = try? normalization.attributes.float("epsilon", default: 1e-5) else { return nil }
        let filters = weights.shape[0]
        let hasBias = convolution.inputs.count > 6 && !convolution.inputs[6].isEmpty
        let bias = hasBias ? constants[convolution.inputs[6]]?.floats : nil
        guard let scale = parameters[0], let shift = parameters[1], let mean = parameters[2], let variance = parameters[3],
              [scale, shift, mean, variance].allSatisfy({ $0.count == filters }), scales.count == 1 || scales.count == filters,
              bias.map({ $0.count == filters }) ?? !hasBias else { return nil }
        let (multipliers, newBias) = Self.affineMap(scale: scale, shift: shift, mean: mean, variance: variance,
                                                    epsilon: epsilon, bias: bias)
        let prefix = "\(normalization.name)/folded"
        let (scaleName, biasName) = (uniqueConstantName("\(prefix)_w_scale"), uniqueConstantName("\(prefix)_B"))
        constants[scaleName] = Tensor(shape: [filters], floats: (0..<filters).map { scales[scales.count == 1 ? 0 : $0] * multipliers[$0] })
        constants[biasName] = Tensor(shape: [filters], floats: newBias)
        var inputs = convolution.inputs + Array(repeating: "", count: max(0, 7 - convolution.inputs.count))
        (inputs[3], inputs[6]) = (scaleName, biasName)
        return NodeDefinition(name: convolution.name, opType: convolution.opType, domain: convolution.domain,
                              inputs: inputs, outputs: normalization.outputs, attributes: convolution.attributes)
    }

    /// Per filter: m = scale / sqrt(variance + epsilon), and the bias (bias - mean) * m + shift.
    private static func affineMap(scale: [Float], shift: [Float], mean: [Float], variance: [Float], epsilon: Float,
                                  bias: [Float]?) -> (multipliers: [Float], bias: [Float]) {
        let multipliers = scale.indices.map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        let folded = scale.indices.map { filter -> Float in
            let centred: Float = (bias?[filter] ?? 0) - mean[filter]
            return centred * multipliers[filter] + shift[filter]
        }
        return (multipliers, folded)
    }

    private func uniqueConstantName(_ base: String) -> String {
        var name = base, suffix = 1
        while constants[name] != nil { name = "\(base)_\(suffix)"; suffix += 1 }
        return name
    }
}

private extension NodeDefinition {
    var isFoldableBatchNormalization: Bool {
        domain.isEmpty && opType == "BatchNormalization" && inputs.count == 5 && outputs.count == 1
            && ((try? attributes.int("training_mode", default: 0)) ?? 0) == 0
    }
}
