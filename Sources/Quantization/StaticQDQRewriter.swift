import Inference

/// Puts QuantizeLinear/DequantizeLinear pairs (QDQ) on the tensors an IntegerRegion quantizes, and
/// dequantizes the chosen weighted nodes' weights: each activation per tensor with its calibrated
/// range, uint8 asymmetric or int8 symmetric, each weight stored as int8 and dequantized per output
/// channel (or per tensor). onnxruntime fuses the pattern into integer kernels; any runtime can also
/// run it as float.
struct StaticQDQRewriter {
    let perChannel: Bool
    let weightRange: WeightRange
    let activationType: ActivationType
    let activationRanges: [String: ClosedRange<Float>]

    /// Rewrites `graph` in place; `chosen` maps node positions in `graph.node` to their weights.
    /// Only the quantized nodes and the region's joined ops read the dequantized tensors; other
    /// readers keep the float ones.
    func rewrite(_ graph: inout Onnx_GraphProto, chosen: [Int: WeightedNode], region: IntegerRegion) {
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        var dequantized: [String: String] = [:]
        var gridsWritten = Set<String>()
        let joined = Set(region.joined)
        func readDequantized(_ tensor: String) -> String {
            if let name = dequantized[tensor] { return name }
            let root = region.root(of: tensor)
            if gridsWritten.insert(root).inserted { initializers += gridConstants(root) }
            let (pair, output) = activationPair(tensor, source: region.quantizeSources[tensor] ?? tensor, grid: root)
            nodes += pair
            dequantized[tensor] = output
            return output
        }
        for (index, original) in graph.node.enumerated() where !region.removed.contains(index) {
            var node = original
            if let weighted = chosen[index] {
                node.input[0] = readDequantized(weighted.activation)
                if let name = dequantized[weighted.weightName] {
                    node.input[1] = name
                } else {
                    let (dequantize, constants, output) = weightDequantization(weighted)
                    nodes.append(dequantize)
                    initializers += constants
                    dequantized[weighted.weightName] = output
                    node.input[1] = output
                }
            } else if joined.contains(index) {
                let quantized = Set(region.quantizedInputs(ofJoined: index))
                node.input = node.input.map { quantized.contains($0) ? readDequantized($0) : $0 }
                // A two-input Sum (opset 1-7 graphs' residual adds) is an Add that onnxruntime fuses into QLinearAdd.
                if node.opType == "Sum" { node.opType = "Add" }
            }
            nodes.append(node)
        }
        graph.node = nodes
        graph.initializer += initializers
        GraphEditing.dropUnusedInitializers(&graph)
    }

    /// The QuantizeLinear of `source` and DequantizeLinear pair that stand for `tensor`, on the
    /// scale and zero point of `grid`.
    private func activationPair(_ tensor: String, source: String, grid: String) -> ([Onnx_NodeProto], String) {
        let (scale, zeroPoint) = gridNames(grid)
        let quantized = "\(tensor)_quantized", output = "\(tensor)_dequantized"
        return ([
            GraphEditing.node("QuantizeLinear", "\(tensor)_QuantizeLinear", [source, scale, zeroPoint], [quantized]),
            GraphEditing.node("DequantizeLinear", "\(tensor)_DequantizeLinear", [quantized, scale, zeroPoint], [output]),
        ], output)
    }

    private func gridNames(_ tensor: String) -> (scale: String, zeroPoint: String) {
        ("\(tensor)_scale", "\(tensor)_zero_point")
    }

    /// The scale and zero point of `tensor`'s calibrated range.
    private func gridConstants(_ tensor: String) -> [Onnx_TensorProto] {
        let range = activationRanges[tensor]!
        let (scale, zeroPoint) = gridNames(tensor)
        switch activationType {
        case .uint8:
            let parameters = ActivationQuantization(range: range)
            return [
                Tensor(shape: [], floats: [parameters.scale]).onnxTensor(named: scale),
                Tensor(shape: [], uint8s: [parameters.zeroPoint]).onnxTensor(named: zeroPoint),
            ]
        case .int8:
            let bound = max(abs(range.lowerBound), abs(range.upperBound))
            return [
                Tensor(shape: [], floats: [bound > 0 ? bound / 127 : 1]).onnxTensor(named: scale),
                Tensor(shape: [], int8s: [0]).onnxTensor(named: zeroPoint),
            ]
        }
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
