import Inference

/// Replaces each MatMul/Gemm whose weight is a constant float matrix with
/// DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(activation scale x weight scales) [-> Add bias],
/// the graph onnxruntime's quantize_dynamic writes, with weights int8 per output channel.
struct DynamicInt8Rewriter {
    private(set) var quantizedNodes: [String] = []
    private(set) var skippedNodes: [QuantizationReport.SkippedNode] = []
    private var initializers: [String: Onnx_TensorProto]
    private var newInitializers: [Onnx_TensorProto] = []

    init(graph: Onnx_GraphProto) {
        initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    mutating func rewrite(_ graph: inout Onnx_GraphProto) {
        var nodes: [Onnx_NodeProto] = []
        for node in graph.node {
            guard node.domain.isEmpty || node.domain == "ai.onnx", node.opType == "MatMul" || node.opType == "Gemm" else {
                nodes.append(node)
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
        Self.dropUnusedInitializers(&graph)
    }

    private struct Skip: Error { let reason: String }

    private mutating func quantizedReplacement(for node: Onnx_NodeProto) -> Result<[Onnx_NodeProto], Skip> {
        guard node.input.count >= 2, node.output.count == 1 else {
            return .failure(Skip(reason: "expected two inputs and one output"))
        }
        let gemm = node.opType == "Gemm" ? GemmAttributes(node) : nil
        if let gemm, let unsupported = gemm.unsupportedReason { return .failure(Skip(reason: unsupported)) }
        guard let proto = initializers[node.input[1]] else {
            return .failure(Skip(reason: "weight '\(node.input[1])' is not a constant initializer"))
        }
        guard let weight = try? Tensor(onnxTensor: proto), weight.elementType == .float32 || weight.elementType == .float16,
              weight.shape.count == 2 else {
            return .failure(Skip(reason: "weight '\(node.input[1])' is not a 2-D float matrix"))
        }
        let (rows, columns) = gemm?.transposesB == true ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1])
        let values = gemm?.transposesB == true ? Self.transposed(weight.floats, rows: columns, columns: rows) : weight.floats
        let quantized = SymmetricPerColumnQuantization(rowMajor: values, rows: rows, columns: columns)

        let output = node.output[0]
        let prefix = node.name.isEmpty ? output : node.name
        let name = { (suffix: String) in "\(prefix)_\(suffix)" }
        newInitializers += [
            Tensor(shape: [rows, columns], int8s: quantized.values).onnxTensor(named: name("weight_quantized")),
            Tensor(shape: [columns], floats: quantized.scales).onnxTensor(named: name("weight_scale")),
            Tensor(shape: [columns], int8s: Array(repeating: 0, count: columns)).onnxTensor(named: name("weight_zero_point")),
        ]
        let product = gemm?.bias == nil ? output : name("product")
        var nodes = [
            Self.node("DynamicQuantizeLinear", name("quantize_input"), [node.input[0]],
                      [name("input_quantized"), name("input_scale"), name("input_zero_point")]),
            Self.node("MatMulInteger", name("matmul_integer"),
                      [name("input_quantized"), name("weight_quantized"), name("input_zero_point"), name("weight_zero_point")],
                      [name("product_int32")]),
            Self.node("Cast", name("cast_product"), [name("product_int32")], [name("product_unscaled")],
                      attributes: [Self.intAttribute("to", Int64(ElementType.float32.onnxDataType))]),
            Self.node("Mul", name("combine_scales"), [name("input_scale"), name("weight_scale")], [name("scale")]),
            Self.node("Mul", name("rescale"), [name("product_unscaled"), name("scale")], [product]),
        ]
        if let bias = gemm?.bias {
            nodes.append(Self.node("Add", name("add_bias"), [product, bias], [output]))
        }
        return .success(nodes)
    }

    /// The Gemm forms that are a MatMul plus bias: Y = A x B(^T) + C with alpha = beta = 1.
    private struct GemmAttributes {
        let transposesB: Bool
        let bias: String?
        let unsupportedReason: String?

        init(_ node: Onnx_NodeProto) {
            let ints = Dictionary(node.attribute.map { ($0.name, $0.i) }, uniquingKeysWith: { first, _ in first })
            let floats = Dictionary(node.attribute.map { ($0.name, $0.f) }, uniquingKeysWith: { first, _ in first })
            transposesB = (ints["transB"] ?? 0) != 0
            bias = node.input.count > 2 && !node.input[2].isEmpty ? node.input[2] : nil
            unsupportedReason = if (ints["transA"] ?? 0) != 0 {
                "Gemm with transA = 1"
            } else if (floats["alpha"] ?? 1) != 1 || (floats["beta"] ?? 1) != 1 {
                "Gemm with alpha or beta other than 1"
            } else {
                nil
            }
        }
    }

    private static func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { index in values[(index % rows) * columns + index / rows] }
    }

    private static func node(_ opType: String, _ name: String, _ inputs: [String], _ outputs: [String],
                             attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = name
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    private static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = value
        return attribute
    }

    /// Float weights that only the replaced nodes read would otherwise stay in the file.
    private static func dropUnusedInitializers(_ graph: inout Onnx_GraphProto) {
        let used = Set(graph.node.flatMap(\.input)).union(graph.output.map(\.name))
        let unused = Set(graph.initializer.map(\.name)).subtracting(used)
        graph.initializer.removeAll { unused.contains($0.name) }
        // Models before IR version 4 also list initializers as graph inputs.
        graph.input.removeAll { unused.contains($0.name) }
    }
}
