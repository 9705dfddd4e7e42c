import Inference

/// Stores the chosen MatMul/Gemm weights as int4 in blocks along the reduction axis and puts an
/// opset-21 blocked DequantizeLinear in front of each; activations stay float (weight-only).
struct Int4WeightRewriter {
    let blockSize: Int

    static let neededOpset = 21
    /// INT4 tensors exist from IR version 10.
    static let neededIRVersion: Int64 = 10

    /// Raises the model to opset 21 and IR 10 when that cannot change what its other nodes mean.
    static func upgrade(_ model: inout Onnx_ModelProto) throws(QuantizationError) {
        try OpsetUpgrade.raise(&model, to: neededOpset, scheme: .int4Weight, why: "blocked DequantizeLinear is opset 21")
        model.irVersion = max(model.irVersion, neededIRVersion)
    }

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
            let weight = weighted.weightName
            if let name = dequantized[weight] {
                node.input[1] = name
            } else {
                let quantized = SymmetricInt4BlockQuantization(
                    weighted.weight.floats, shape: weighted.weight.shape, blockAxis: weighted.reductionAxis, blockSize: blockSize)
                let names = (values: "\(weight)_int4", scale: "\(weight)_block_scale", output: "\(weight)_dequantized")
                initializers += [
                    quantized.onnxTensor(named: names.values, shape: weighted.weight.shape),
                    Tensor(shape: quantized.scaleShape, floats: quantized.scales).onnxTensor(named: names.scale),
                ]
                nodes.append(GraphEditing.node(
                    "DequantizeLinear", "\(weight)_DequantizeLinear", [names.values, names.scale], [names.output],
                    attributes: [GraphEditing.intAttribute("axis", Int64(weighted.reductionAxis)),
                                 GraphEditing.intAttribute("block_size", Int64(blockSize))]))
                dequantized[weight] = names.output
                node.input[1] = names.output
            }
            nodes.append(node)
        }
        graph.node = nodes
        graph.initializer += initializers
        GraphEditing.dropUnusedInitializers(&graph)
    }
}
