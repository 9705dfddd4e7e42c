import Inference

/// Stores large constant tables read by Gather (a transformer's word embeddings: 30522 x 384 floats,
/// half of all-MiniLM-L6-v2's bytes) as int8 with one scale per row, behind a DequantizeLinear along
/// axis 0. Each looked-up row keeps its own range, so rare tokens with small vectors lose nothing
/// to frequent ones; onnxruntime runs the file as is, and our engine gathers the int8 rows and
/// dequantizes only those.
struct EmbeddingTableRewriter {
    /// Smaller tables (position and token-type embeddings) are not worth the DequantizeLinear.
    static let smallestQuantizedElements = 1 << 16

    private(set) var quantizedNodes: [String] = []
    private(set) var skippedNodes: [QuantizationReport.SkippedNode] = []

    /// Per-row DequantizeLinear (its `axis`) is opset 13.
    static let neededOpset = 13

    mutating func rewrite(_ graph: inout Onnx_GraphProto, opset: Int, rules: FloatKeepingRules) {
        var initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var rewritten: [String: String] = [:]
        var nodes: [Onnx_NodeProto] = []
        for var node in graph.node {
            defer { nodes.append(node) }
            guard GraphEditing.isDefaultDomain(node), node.opType == "Gather", node.input.count == 2,
                  (node.attribute.first { $0.name == "axis" }?.i ?? 0) == 0,
                  let proto = initializers[node.input[0]], let table = try? Tensor(onnxTensor: proto),
                  table.elementType == .float32, table.shape.count == 2, table.count >= Self.smallestQuantizedElements else { continue }
            if let reason = opset < Self.neededOpset
                ? "its per-row DequantizeLinear needs opset \(Self.neededOpset); the model is opset \(opset)" : rules.reasonToKeepFloat(node) {
                skippedNodes.append(.init(name: GraphEditing.displayName(of: node), opType: node.opType, reason: reason))
                continue
            }
            let name = node.input[0]
            if rewritten[name] == nil {
                // Rows are looked up, never multiplied in pairs: the full range is safe.
                let quantized = SymmetricInt8Quantization(table.floats, shape: table.shape, outputChannelAxis: 0, perChannel: true, range: .full)
                let names = (values: "\(name)_quantized", scale: "\(name)_scale", zeroPoint: "\(name)_zero_point", output: "\(name)_dequantized")
                for tensor in [
                    Tensor(shape: table.shape, int8s: quantized.values).onnxTensor(named: names.values),
                    Tensor(shape: [table.shape[0]], floats: quantized.scales).onnxTensor(named: names.scale),
                    Tensor(shape: [table.shape[0]], int8s: Array(repeating: 0, count: table.shape[0])).onnxTensor(named: names.zeroPoint),
                ] {
                    graph.initializer.append(tensor)
                    initializers[tensor.name] = tensor
                }
                nodes.append(GraphEditing.node(
                    "DequantizeLinear", "\(name)_DequantizeLinear", [names.values, names.scale, names.zeroPoint], [names.output],
                    attributes: [GraphEditing.intAttribute("axis", 0)]))
                rewritten[name] = names.output
            }
            node.input[0] = rewritten[name]!
            quantizedNodes.append(GraphEditing.displayName(of: node))
        }
        graph.node = nodes
        GraphEditing.dropUnusedInitializers(&graph)
    }
}
