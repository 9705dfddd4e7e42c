import Inference

/// Replaces each MatMul/Gemm whose weight is a constant float matrix with
/// DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(activation scale x weight scales) [-> Add bias],
/// the graph onnxruntime's quantize_dynamic writes, with symmetric int8 weights (per output channel
/// by default).
struct DynamicInt8Rewriter {
    private(set) var quantizedNodes: [String] = []
    private(set) var skippedNodes: [QuantizationReport.SkippedNode] = []
    private var initializers: [String: Onnx_TensorProto]
    private var newInitializers: [Onnx_TensorProto] = []
    private let rules: FloatKeepingRules
    private let perChannel: Bool
    private let weightRange: WeightRange

    init(graph: Onnx_GraphProto, rules: FloatKeepingRules, perChannel: Bool, weightRange: WeightRange) {
        initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.rules = rules
        self.perChannel = perChannel
        self.weightRange = weightRange
    }

    mutating func rewrite(_ graph: inout Onnx_GraphProto) {
        var nodes: [Onnx_NodeProto] = []
        for node in graph.node {
            guard GraphEditing.isDefaultDomain(node), node.opType == "MatMul" || node.opType == "Gemm" else {
                if node.opType == "Conv" {
                    skippedNodes.append(.init(name: GraphEditing.displayName(of: node), opType: node.opType,
                                              reason: "int8-dynamic quantizes MatMul and Gemm only; int8-static quantizes Conv"))
                }
                nodes.append(node)
                continue
            }
            if let reason = rules.reasonToKeepFloat(node) {
                nodes.append(node)
                skippedNodes.append(.init(name: GraphEditing.displayName(of: node), opType: node.opType, reason: reason))
                continue
            }
            switch quantizedReplacement(for: node) {
            case .success(let replacement):
                nodes += replacement
                quantizedNodes.append(node.name)
            case .failure(let skip):
                nodes.append(node)
                skippedNodes.append(.init(name: node.name, opType: node.opType, reason: skip.reason))
            }
        }
        graph.node = nodes
        graph.initializer += newInitializers
        GraphEditing.dropUnusedInitializers(&graph)
    }

    private struct Skip: Error { let reason: String }

    private mutating func quantizedReplacement(for node: Onnx_NodeProto) -> Result<[Onnx_NodeProto], Skip> {
        guard node.input.count >= 2, node.output.count == 1 else {
            return .failure(Skip(reason: "expected two inputs and one output"))
        }
        let gemm = node.opType == "Gemm" ? GemmAttributes(node) : nil
        if let gemm, gemm.transposesA { return .failure(Skip(reason: "Gemm with transA = 1")) }
        if let gemm, gemm.alpha != 1 || gemm.beta != 1 { return .failure(Skip(reason: "Gemm with alpha or beta other than 1")) }
        guard let proto = initializers[node.input[1]] else {
            return .failure(Skip(reason: "weight '\(node.input[1])' is not a constant initializer"))
        }
        guard let weight = try? Tensor(onnxTensor: proto), weight.elementType == .float32 || weight.elementType == .float16,
              weight.shape.count == 2 else {
            return .failure(Skip(reason: "weight '\(node.input[1])' is not a 2-D float matrix"))
        }
        let (rows, columns) = gemm?.transposesB == true ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1])
        let values = gemm?.transposesB == true ? Self.transposed(weight.floats, rows: columns, columns: rows) : weight.floats
        let quantized = SymmetricInt8Quantization(values, shape: [rows, columns], outputChannelAxis: 1, perChannel: perChannel, range: weightRange)
        let scaleShape = perChannel ? [columns] : []

        let output = node.output[0]
        let prefix = node.name.isEmpty ? output : node.name
        let name = { (suffix: String) in "\(prefix)_\(suffix)" }
        newInitializers += [
            Tensor(shape: [rows, columns], int8s: quantized.values).onnxTensor(named: name("weight_quantized")),
            Tensor(shape: scaleShape, floats: quantized.scales).onnxTensor(named: name("weight_scale")),
            Tensor(shape: scaleShape, int8s: Array(repeating: 0, count: quantized.scales.count)).onnxTensor(named: name("weight_zero_point")),
        ]
        let product = gemm?.bias == nil ? output : name("product")
        var nodes = [
            GraphEditing.node("DynamicQuantizeLinear", name("quantize_input"), [node.input[0]],
                      [name("input_quantized"), name("input_scale"), name("input_zero_point")]),
            GraphEditing.node("MatMulInteger", name("matmul_integer"),
                      [name("input_quantized"), name("weight_quantized"), name("input_zero_point"), name("weight_zero_point")],
                      [name("product_int32")]),
            GraphEditing.node("Cast", name("cast_product"), [name("product_int32")], [name("product_unscaled")],
                      attributes: [GraphEditing.intAttribute("to", Int64(ElementType.float32.onnxDataType))]),
            GraphEditing.node("Mul", name("combine_scales"), [name("input_scale"), name("weight_scale")], [name("scale")]),
            GraphEditing.node("Mul", name("rescale"), [name("product_unscaled"), name("scale")], [product]),
        ]
        if let bias = gemm?.bias {
            nodes.append(GraphEditing.node("Add", name("add_bias"), [product, bias], [output]))
        }
        return .success(nodes)
    }

    private static func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { index in values[(index % rows) * columns + index / rows] }
    }
}
