/// Runs a QDQ graph's weighted ops on the integer kernels instead of as dequantize-then-float: a
/// MatMul, Gemm or Conv whose activation comes from a DequantizeLinear (per-tensor, constant scale
/// and zero point) and whose weight is a DequantizeLinear of a constant int8/uint8 tensor (per tensor
/// or per output channel) becomes one MatMulIntegerToFloat (onnxruntime's contrib op) or
/// ConvIntegerToFloat that reads the quantized activation directly, and a Gather from a dequantized
/// table becomes GatherDequantized, and a MatMul by a constant weight dequantized in blocks along K
/// (int4 weight-only) becomes MatMulBlockDequantized. The dynamic patterns MatMulInteger -> Cast ->
/// Mul by (activation scale x weight scale), as quantize_dynamic writes it, becomes one
/// MatMulIntegerToFloat, and ConvInteger [-> Add(int32 bias per filter)] -> Cast -> Mul one
/// ConvIntegerToFloat, so their int32 products are never materialised. Nodes left without readers
/// are dropped, so the float weights are never materialised either.
enum QDQFusion {
    /// The domain of the engine's own fused operators.
    static let domain = "quantfleet.fused"
}

extension GraphDefinition {
    mutating func fuseQuantizedLinearOps() {
        var producers: [String: NodeDefinition] = [:]
        for node in nodes { for output in node.outputs { producers[output] = node } }
        nodes = nodes.map { node in
            if let gather = fusedGather(node, table: producers[node.inputs.first ?? ""]) { return gather }
            if let product = fusedBlockMatMul(node, weight: producers[node.inputs.count == 2 ? node.inputs[1] : ""]) { return product }
            if let product = fusedDynamicMatMul(node, producers: producers) { return product }
            if let convolution = fusedDynamicConv(node, producers: producers) { return convolution }
            guard node.domain.isEmpty, ["MatMul", "Gemm", "Conv"].contains(node.opType), node.inputs.count >= 2,
                  let activation = activationDequantization(producers[node.inputs[0]]),
                  let weight = weightDequantization(producers[node.inputs[1]]) else { return node }
            return fused(node, activation: activation, weight: weight) ?? node
        }
        pruneUnreadNodes()
    }

    /// A DequantizeLinear's operands: (quantized, scale, zero point), and its axis.
    private struct Dequantization {
        let quantized: String
        let scale: String
        let zeroPoint: String
        let axis: Int
    }

    /// A per-tensor dequantization of a uint8/int8 value with a constant scale and zero point.
    private func activationDequantization(_ node: NodeDefinition?) -> Dequantization? {
        guard let node, let dequantization = dequantization(node),
              constants[dequantization.scale]?.count == 1,
              let zero = constants[dequantization.zeroPoint], zero.count == 1, zero.elementType == .uint8 || zero.elementType == .int8
        else { return nil }
        return dequantization
    }

    /// A dequantization of a constant int8/uint8 tensor (its zero point, when given, constant too).
    private func weightDequantization(_ node: NodeDefinition?) -> Dequantization? {
        guard let node, let dequantization = dequantization(node), let values = constants[dequantization.quantized],
              values.elementType == .int8 || values.elementType == .uint8, constants[dequantization.scale] != nil,
              dequantization.zeroPoint.isEmpty || constants[dequantization.zeroPoint]?.elementType == values.elementType
        else { return nil }
        return dequantization
    }

    private func dequantization(_ node: NodeDefinition) -> Dequantization? {
        guard node.domain.isEmpty, node.opType == "DequantizeLinear", node.inputs.count >= 2,
              ((try? node.attributes.int("block_size", default: 0)) ?? 0) == 0,
              let axis = try? node.attributes.int("axis", default: 1) else { return nil }
        return Dequantization(quantized: node.inputs[0], scale: node.inputs[1],
                              zeroPoint: node.inputs.count > 2 ? node.inputs[2] : "", axis: axis)
    }

    /// The fused node, or nil when the weight's scale layout or the op's attributes do not fit.
    private mutating func fused(_ node: NodeDefinition, activation: Dequantization, weight: Dequantization) -> NodeDefinition? {
        let values = constants[weight.quantized]!, scale = constants[weight.scale]!
        let rank = values.shape.count
        // The output-channel axis the weight's scales must run along, when there is more than one.
        let channelAxis: Int
        var (weightName, scaleName, bias) = (weight.quantized, weight.scale, "")
        switch node.opType {
        case "MatMul":
            channelAxis = 1
            guard rank == 2, scale.count == 1 || weight.axis == channelAxis || weight.axis == channelAxis - rank else { return nil }
        case "Gemm":
            guard rank == 2, ((try? node.attributes.int("transA", default: 0)) ?? 1) == 0,
                  let alpha = try? node.attributes.float("alpha", default: 1), let beta = try? node.attributes.float("beta", default: 1),
                  let transposed = try? node.attributes.int("transB", default: 0) else { return nil }
            channelAxis = transposed != 0 ? 0 : 1
            guard scale.count == 1 || weight.axis == channelAxis || weight.axis == channelAxis - rank else { return nil }
            let columns = values.shape[channelAxis]
            if transposed != 0 {
                weightName = addConstant(named: "\(weight.quantized)/transposed", values.transposed2D())
            }
            if alpha != 1 {
                scaleName = addConstant(named: "\(weight.scale)/alpha", Tensor(shape: scale.shape, floats: scale.floats.map { $0 * alpha }))
            }
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let c = constants[node.inputs[2]], c.count == 1 || (c.count == columns && c.shape.last == columns) else { return nil }
                let terms = c.count == 1 ? Array(repeating: c.float(at: 0), count: columns) : c.floats
                bias = addConstant(named: "\(node.inputs[2])/beta", Tensor(shape: [columns], floats: terms.map { $0 * beta }))
            }
        case "Conv":
            // Depthwise convolutions (one input channel per group) stay float: a GEMM per channel
            // with a single column is slower than the float convolution of folded weights.
            guard rank >= 3, values.shape[1] > 1 || ((try? node.attributes.int("group", default: 1)) ?? 1) == 1 else { return nil }
            channelAxis = 0
        default:
            return nil
        }
        let isConv = node.opType == "Conv"
        if isConv {
            guard scale.count == 1 || weight.axis == channelAxis || weight.axis == channelAxis - rank else { return nil }
            bias = node.inputs.count > 2 ? node.inputs[2] : ""
        }
        return NodeDefinition(
            name: node.name, opType: isConv ? "ConvIntegerToFloat" : "MatMulIntegerToFloat", domain: isConv ? QDQFusion.domain : "com.microsoft",
            inputs: [activation.quantized, weightName, activation.scale, scaleName, activation.zeroPoint, weight.zeroPoint, bias],
            outputs: node.outputs, attributes: isConv ? node.attributes : NodeAttributes(node: node.name, values: [:]))
    }

    /// Gather along axis 0 from a dequantized constant table, per tensor or per row: the rows are
    /// gathered as integers and only they are dequantized.
    private func fusedGather(_ node: NodeDefinition, table: NodeDefinition?) -> NodeDefinition? {
        guard node.domain.isEmpty, node.opType == "Gather", node.inputs.count == 2,
              ((try? node.attributes.int("axis", default: 0)) ?? 1) == 0,
              let weight = weightDequantization(table), let values = constants[weight.quantized], values.shape.count >= 1,
              let scale = constants[weight.scale], scale.count == 1 || (scale.count == values.shape[0] && (weight.axis == 0 || weight.axis == -values.shape.count))
        else { return nil }
        return NodeDefinition(name: node.name, opType: "GatherDequantized", domain: QDQFusion.domain,
                              inputs: [weight.quantized, weight.scale, weight.zeroPoint, node.inputs[1]], outputs: node.outputs,
                              attributes: NodeAttributes(node: node.name, values: [:]))
    }

    /// MatMul by DequantizeLinear(constant B [K, N]) in blocks along K (axis 0), scale [K / block, N].
    private func fusedBlockMatMul(_ node: NodeDefinition, weight: NodeDefinition?) -> NodeDefinition? {
        guard node.domain.isEmpty, node.opType == "MatMul", node.inputs.count == 2, let weight,
              weight.domain.isEmpty, weight.opType == "DequantizeLinear", weight.inputs.count >= 2,
              let blockSize = try? weight.attributes.int("block_size", default: 0), blockSize > 0,
              let axis = try? weight.attributes.int("axis", default: 1), axis == 0 || axis == -2,
              let values = constants[weight.inputs[0]], values.shape.count == 2, constants[weight.inputs[1]] != nil,
              weight.inputs.count < 3 || weight.inputs[2].isEmpty || constants[weight.inputs[2]] != nil
        else { return nil }
        return NodeDefinition(name: node.name, opType: "MatMulBlockDequantized", domain: QDQFusion.domain,
                              inputs: [node.inputs[0]] + weight.inputs.prefix(3), outputs: node.outputs,
                              attributes: NodeAttributes(node: node.name, values: ["block_size": .int(Int64(blockSize))]))
    }

    /// Mul(Cast(MatMulInteger(A, B, a_zero, b_zero), to: float), Mul(a_scale, b_scale)) with a
    /// DynamicQuantizeLinear's a_scale and a constant b_scale (one, or one per column): MatMulIntegerToFloat computes
    /// the same products in the same order.
    private func fusedDynamicMatMul(_ node: NodeDefinition, producers: [String: NodeDefinition]) -> NodeDefinition? {
        guard let (integer, activationScale, weightScale) = dynamicallyScaled(node, producers: producers),
              integer.opType == "MatMulInteger" else { return nil }
        let inputs = integer.inputs + Array(repeating: "", count: max(0, 4 - integer.inputs.count))
        return NodeDefinition(
            name: node.name, opType: "MatMulIntegerToFloat", domain: "com.microsoft",
            inputs: [inputs[0], inputs[1], activationScale, weightScale, inputs[2], inputs[3]],
            outputs: node.outputs, attributes: NodeAttributes(node: node.name, values: [:]))
    }

    /// Mul(Cast(Add(ConvInteger(X, W, x_zero, w_zero), int32 bias), to: float), Mul(x_scale, w_scale)),
    /// the Add optional, with a DynamicQuantizeLinear's x_scale and one constant w_scale (the Mul
    /// broadcasts it, so it must be one), and a bias that broadcasts along the filters only: one
    /// ConvIntegerToFloat adds the bias to its accumulators, converts and scales them, as the three
    /// nodes do. (A per-filter w_scale, of shape [M], would broadcast along the width.)
    private func fusedDynamicConv(_ node: NodeDefinition, producers: [String: NodeDefinition]) -> NodeDefinition? {
        guard let (integer, activationScale, weightScale) = dynamicallyScaled(node, producers: producers),
              constants[weightScale]?.count == 1 else { return nil }
        var (convolution, accumulatorBias) = (integer, "")
        if integer.opType == "Add", integer.inputs.count == 2 {
            guard let side = integer.inputs.firstIndex(where: { producers[$0].map { $0.domain.isEmpty && $0.opType == "ConvInteger" } ?? false }),
                  let product = producers[integer.inputs[side]], filterBias(integer.inputs[1 - side], of: product, producers: producers)
            else { return nil }
            (convolution, accumulatorBias) = (product, integer.inputs[1 - side])
        }
        guard convolution.opType == "ConvInteger", convolution.outputs.count == 1 else { return nil }
        let inputs = convolution.inputs + Array(repeating: "", count: max(0, 4 - convolution.inputs.count))
        return NodeDefinition(
            name: node.name, opType: "ConvIntegerToFloat", domain: QDQFusion.domain,
            inputs: [inputs[0], inputs[1], activationScale, weightScale, inputs[2], inputs[3], "", accumulatorBias],
            outputs: node.outputs, attributes: convolution.attributes)
    }

    /// Whether `value` broadcasts along the filters of `convolution`'s output only, at the output's
    /// rank (that of its constant weights): a constant, or a Reshape to a constant shape, of that
    /// rank or less whose every axis but the filters' is 1 (quantize_dynamic reshapes its bias to
    /// [1, M, 1, 1]).
    private func filterBias(_ value: String, of convolution: NodeDefinition, producers: [String: NodeDefinition]) -> Bool {
        guard convolution.inputs.count > 1, let weights = constants[convolution.inputs[1]] else { return false }
        let rank = weights.shape.count, filters = weights.shape[0]
        let shape: [Int]
        if let constant = constants[value] {
            shape = constant.shape
        } else if let reshape = producers[value], reshape.domain.isEmpty, reshape.opType == "Reshape", reshape.inputs.count == 2,
                  let target = constants[reshape.inputs[1]], target.elementType == .int64 {
            shape = target.int64s.map { Int($0) }
        } else {
            return false
        }
        guard shape.count <= rank else { return false }
        let padded = Array(repeating: 1, count: rank - shape.count) + shape
        return padded.indices.allSatisfy { $0 == 1 ? [1, filters, -1].contains(padded[$0]) : padded[$0] == 1 }
    }

    /// Mul(Cast(product, to: float), Mul(a_scale, b_scale)), either way round, with a
    /// DynamicQuantizeLinear's a_scale (a scalar by definition) and a constant b_scale: the node
    /// producing the product (in the default domain) and the two scales.
    private func dynamicallyScaled(_ node: NodeDefinition, producers: [String: NodeDefinition])
        -> (product: NodeDefinition, activationScale: String, weightScale: String)? {
        guard node.domain.isEmpty, node.opType == "Mul", node.inputs.count == 2 else { return nil }
        for (productSide, scaleSide) in [(0, 1), (1, 0)] {
            guard let cast = producers[node.inputs[productSide]], cast.domain.isEmpty, cast.opType == "Cast",
                  ((try? cast.attributes.int("to")) ?? nil) == Int(ElementType.float32.onnxDataType),
                  let product = producers[cast.inputs.first ?? ""], product.domain.isEmpty,
                  let scales = producers[node.inputs[scaleSide]], scales.domain.isEmpty, scales.opType == "Mul", scales.inputs.count == 2
            else { continue }
            let constantSide = scales.inputs.firstIndex { constants[$0] != nil }
            guard let constantSide, let activationScale = producers[scales.inputs[1 - constantSide]],
                  activationScale.domain.isEmpty, activationScale.opType == "DynamicQuantizeLinear",
                  activationScale.outputs.count > 1, activationScale.outputs[1] == scales.inputs[1 - constantSide] else { continue }
            return (product, scales.inputs[1 - constantSide], scales.inputs[constantSide])
        }
        return nil
    }

    private mutating func addConstant(named base: String, _ tensor: Tensor) -> String {
        var name = base, suffix = 1
        while constants[name] != nil { name = "\(base)_\(suffix)"; suffix += 1 }
        constants[name] = tensor
        return name
    }

    /// Drops nodes none of whose outputs is read or a graph output, until none is left, and the
    /// constants only they read.
    mutating func pruneUnreadNodes() {
        let graphOutputs = Set(outputs.map(\.name))
        while true {
            let read = Set(nodes.flatMap(\.inputs)).union(graphOutputs)
            let kept = nodes.filter { $0.outputs.contains { read.contains($0) } }
            if kept.count == nodes.count { break }
            nodes = kept
        }
        let read = Set(nodes.flatMap(\.inputs)).union(graphOutputs)
        constants = constants.filter { read.contains($0.key) }
    }
}

private extension Tensor {
    /// A 2-D tensor's transpose, same element type.
    func transposed2D() -> Tensor {
        let (rows, columns) = (shape[0], shape[1])
        let positions = (0..<(rows * columns)).map { index in (index % rows) * columns + index / rows }
        return Tensor(shape: [columns, rows], storage: storage.gathered(positions))
    }
}
