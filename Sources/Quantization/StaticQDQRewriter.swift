import Inference

/// Puts QuantizeLinear/DequantizeLinear pairs (QDQ) in front of the chosen weighted nodes: each
/// activation per tensor with its calibrated range, uint8 asymmetric or int8 symmetric, each weight stored as int8
/// and dequantized per output channel (or per tensor). onnxruntime fuses the pattern into integer
/// kernels; any runtime can also run it as float.
struct StaticQDQRewriter {
    let perChannel: Bool
    let weightRange: WeightRange
    let activationType: ActivationType
    let activationRanges: [String: ClosedRange<Float>]

    /// Rewrites `graph` in place; `chosen` maps node positions in `graph.node` to their weights.
    func rewrite(_ graph: inout Onnx_GraphProto, chosen: [Int: WeightedNode]) {
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        var dequantized: [String: String] = [:]
        for (index, original) in graph.node.enumerated() {
            guard let weighted = chosen[index] else {
                nodes.append(original)
                continue
            }
            var node = original
            if let name = dequantized[weighted.activation] {
                node.input[0] = name
            } else {
                let (pair, constants, output) = activationPair(weighted.activation)
                nodes += pair
                initializers += constants
                dequantized[weighted.activation] = output
                node.input[0] = output
            }
            if let name = dequantized[weighted.weightName] {
                node.input[1] = name
            } else {
                let (dequantize, constants, output) = weightDequantization(weighted)
                nodes.append(dequantize)
                initializers += constants
                dequantized[weighted.weightName] = output
                node.input[1] = output
            }
            nodes.append(node)
        }
        graph.node = nodes
        graph.initializer += initializers
        GraphEditing.dropUnusedInitializers(&graph)
    }

    private func activationPair(_ activation: String) -> ([Onnx_NodeProto], [Onnx_TensorProto], String) {
        let range = activationRanges[activation]!
        let scale = "\(activation)_scale", zeroPoint = "\(activation)_zero_point"
        let quantized = "\(activation)_quantized", output = "\(activation)_dequantized"
        let nodes = [
            GraphEditing.node("QuantizeLinear", "\(activation)_QuantizeLinear", [activation, scale, zeroPoint], [quantized]),
            GraphEditing.node("DequantizeLinear", "\(activation)_DequantizeLinear", [quantized, scale, zeroPoint], [output]),
        ]
        let constants: [Onnx_TensorProto]
        switch activationType {
        case .uint8:
            let parameters = ActivationQuantization(range: range)
            constants = [
                Tensor(shape: [], floats: [parameters.scale]).onnxTensor(named: scale),
                Tensor(shape: [], uint8s: [parameters.zeroPoint]).onnxTensor(named: zeroPoint),
            ]
        case .int8:
            let bound = max(abs(range.lowerBound), abs(range.upperBound))
            constants = [
                Tensor(shape: [], floats: [bound > 0 ? bound / 127 : 1]).onnxTensor(named: scale),
                Tensor(shape: [], int8s: [0]).onnxTensor(named: zeroPoint),
            ]
        }
        return (nodes, constants, output)
    }

    private func weightDequantization(_ weighted: WeightedNode) -> (Onnx_NodeProto, [Onnx_TensorProto], String) {
        let weight = weighted.weightName
        let axis = perChannel ? weighted.outputChannelAxis : nil
        let quantized = SymmetricInt8Quantization(
            weighted.weight.floats, shape: weighted.weight.shape, outputChannelAxis: weighted.outputChannelAxis,
            perChannel: perChannel, range: weightRange)
        let scaleShape = axis == nil ? [] : [quantized.scales.count]
        let names = (values: "\(weight)_quantized", scale: "\(weight)_scale", zeroPoint: "\(weight)_zero_point")
        let output = "\(weight)_dequantized"
        let constants = [
            Tensor(shape: weighted.weight.shape, int8s: quantized.values).onnxTensor(named: names.values),
            Tensor(shape: scaleShape, floats: quantized.scales).onnxTensor(named: names.scale),
            Tensor(shape: scaleShape, int8s: Array(repeating: 0, count: quantized.scales.count)).onnxTensor(named: names.zeroPoint),
        ]
        let node = GraphEditing.node(
            "DequantizeLinear", "\(weight)_DequantizeLinear", [names.values, names.scale, names.zeroPoint], [output],
            attributes: axis.map { [GraphEditing.intAttribute("axis", Int64($0))] } ?? [])
        return (node, constants, output)
    }
}
