/// Folds a per-channel affine map y = m * x + t into the Conv or ConvTranspose that feeds it, at
/// load, so the map costs nothing per inference. The maps folded: an inference-mode
/// BatchNormalization (m = scale / sqrt(var + eps), t = bias - mean * m), and a Mul or Add with a
/// constant that broadcasts along channels only (PP-OCR's learnable affine blocks follow 28 of the
/// detector's convolutions with a scalar Mul and Add: 10 % of a run). m moves into the weights, and
/// bias * m + t becomes the bias. Run again after QDQ fusion, it folds into a ConvIntegerToFloat's
/// weight scales and bias instead (a QDQ Conv's weights are not constants before fusion).
extension GraphDefinition {
    mutating func foldChannelAffineMaps() {
        var readers: [String: Int] = [:]
        for node in nodes { for input in node.inputs where !input.isEmpty { readers[input, default: 0] += 1 } }
        let graphOutputs = Set(outputs.map(\.name))
        var producers: [String: Int] = [:]
        for (index, node) in nodes.enumerated() { for output in node.outputs { producers[output] = index } }

        var removed = Set<Int>()
        for (index, node) in nodes.enumerated() {
            guard let convolutionOutput = affineOperand(of: node), readers[convolutionOutput] == 1,
                  !graphOutputs.contains(convolutionOutput), let producer = producers[convolutionOutput], !removed.contains(producer),
                  let folded = folded(nodes[producer], into: node) else { continue }
            nodes[producer] = folded
            // A map after this one (Mul then Add) now reads the convolution itself.
            producers[node.outputs[0]] = producer
            removed.insert(index)
        }
        nodes = nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        let stillRead = Set(nodes.flatMap(\.inputs)).union(graphOutputs)
        constants = constants.filter { stillRead.contains($0.key) }
    }

    /// The value a node maps per channel, when it is a map this folds (the constant operand of a
    /// Mul or Add is checked against the convolution's channels later).
    private func affineOperand(of node: NodeDefinition) -> String? {
        guard node.domain.isEmpty, node.outputs.count == 1 else { return nil }
        switch node.opType {
        case "BatchNormalization":
            let training = (try? node.attributes.int("training_mode", default: 0)) ?? 0
            return node.inputs.count == 5 && training == 0 ? node.inputs[0] : nil
        case "Mul", "Add":
            guard node.inputs.count == 2 else { return nil }
            let constant = node.inputs.map { constants[$0] != nil }
            return constant == [false, true] ? node.inputs[0] : constant == [true, false] ? node.inputs[1] : nil
        default:
            return nil
        }
    }

    /// The map's m and t for each of `filters` channels of a convolution output of `rank`; nil when
    /// an operand is not a float constant of a per-channel shape.
    private func channelMap(_ node: NodeDefinition, filters: Int, rank: Int) -> (multipliers: [Float], shifts: [Float])? {
        if node.opType == "BatchNormalization" {
            guard let parameters = try? (1...4).map({ try constants[node.inputs[$0]].map { try $0.floatOperand("BN") } }),
                  let epsilon = try? node.attributes.float("epsilon", default: 1e-5),
                  let scale = parameters[0], let shift = parameters[1], let mean = parameters[2], let variance = parameters[3],
                  [scale, shift, mean, variance].allSatisfy({ $0.count == filters }) else { return nil }
            let multipliers = scale.indices.map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
            return (multipliers, scale.indices.map { shift[$0] - mean[$0] * multipliers[$0] })
        }
        guard let constant = node.inputs.compactMap({ constants[$0] }).first, constant.elementType.isFloatingPoint,
              constant.shape.count <= rank else { return nil }
        // Left-padded to the output's rank [N, M, spatial...], only the channel axis may exceed 1.
        let padded = Array(repeating: 1, count: rank - constant.shape.count) + constant.shape
        guard padded.enumerated().allSatisfy({ $0.offset == 1 || $0.element == 1 }), padded[1] == 1 || padded[1] == filters else { return nil }
        let values = constant.floats, perChannel = (0..<filters).map { values[values.count == 1 ? 0 : $0] }
        return node.opType == "Mul" ? (perChannel, Array(repeating: 0, count: filters)) : (Array(repeating: 1, count: filters), perChannel)
    }

    /// The convolution with the map folded in, writing the map's output; nil when the convolution's
    /// operands are not float constants of the expected size.
    private mutating func folded(_ convolution: NodeDefinition, into map: NodeDefinition) -> NodeDefinition? {
        if convolution.domain == QDQFusion.domain, convolution.opType == "ConvIntegerToFloat" {
            return foldedIntoScales(convolution, map)
        }
        let isTransposed = convolution.opType == "ConvTranspose"
        guard convolution.domain.isEmpty, convolution.opType == "Conv" || isTransposed,
              convolution.outputs.count == 1, convolution.inputs.count >= 2,
              let weights = constants[convolution.inputs[1]], weights.shape.count >= 3,
              weights.elementType == .float32 || weights.elementType == .float16 else { return nil }
        let groups = (try? convolution.attributes.int("group", default: 1)) ?? 1
        let filters = isTransposed ? weights.shape[1] * groups : weights.shape[0]
        let bias = convolution.inputs.count > 2 && !convolution.inputs[2].isEmpty ? constants[convolution.inputs[2]]?.floats : nil
        guard let (multipliers, shifts) = channelMap(map, filters: filters, rank: weights.shape.count),
              bias.map({ $0.count == filters }) ?? true,
              convolution.inputs.count < 3 || convolution.inputs[2].isEmpty || bias != nil else { return nil }

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

        let prefix = "\(map.name)/folded"
        let (weightName, biasName) = (uniqueConstantName("\(prefix)_W"), uniqueConstantName("\(prefix)_B"))
        constants[weightName] = Tensor(shape: weights.shape, floats: values, as: weights.elementType)
        constants[biasName] = Tensor(shape: [filters], floats: Self.mapped(bias, multipliers, shifts), as: weights.elementType)
        return NodeDefinition(name: convolution.name, opType: convolution.opType, domain: convolution.domain,
                              inputs: [convolution.inputs[0], weightName, biasName], outputs: map.outputs,
                              attributes: convolution.attributes)
    }

    /// ConvIntegerToFloat(x, w, x_scale, w_scale, x_zero, w_zero, bias): y = acc x w_scale + bias per
    /// filter, so the map scales w_scale and the bias.
    private mutating func foldedIntoScales(_ convolution: NodeDefinition, _ map: NodeDefinition) -> NodeDefinition? {
        guard convolution.outputs.count == 1, convolution.inputs.count >= 4,
              let weights = constants[convolution.inputs[1]], weights.shape.count >= 3,
              let scales = try? constants[convolution.inputs[3]]?.floatOperand("w_scale") else { return nil }
        let filters = weights.shape[0]
        let hasBias = convolution.inputs.count > 6 && !convolution.inputs[6].isEmpty
        let bias = hasBias ? constants[convolution.inputs[6]]?.floats : nil
        guard let (multipliers, shifts) = channelMap(map, filters: filters, rank: weights.shape.count),
              scales.count == 1 || scales.count == filters, bias.map({ $0.count == filters }) ?? !hasBias else { return nil }
        let prefix = "\(map.name)/folded"
        let (scaleName, biasName) = (uniqueConstantName("\(prefix)_w_scale"), uniqueConstantName("\(prefix)_B"))
        constants[scaleName] = Tensor(shape: [filters], floats: (0..<filters).map { scales[scales.count == 1 ? 0 : $0] * multipliers[$0] })
        constants[biasName] = Tensor(shape: [filters], floats: Self.mapped(bias, multipliers, shifts))
        var inputs = convolution.inputs + Array(repeating: "", count: max(0, 7 - convolution.inputs.count))
        (inputs[3], inputs[6]) = (scaleName, biasName)
        return NodeDefinition(name: convolution.name, opType: convolution.opType, domain: convolution.domain,
                              inputs: inputs, outputs: map.outputs, attributes: convolution.attributes)
    }

    /// The bias after the map: bias * m + t per filter (no bias: t).
    private static func mapped(_ bias: [Float]?, _ multipliers: [Float], _ shifts: [Float]) -> [Float] {
        shifts.indices.map { (bias?[$0] ?? 0) * multipliers[$0] + shifts[$0] }
    }

    private func uniqueConstantName(_ base: String) -> String {
        var name = base, suffix = 1
        while constants[name] != nil { name = "\(base)_\(suffix)"; suffix += 1 }
        return name
    }
}
