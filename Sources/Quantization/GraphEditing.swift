import Inference

/// Small builders and clean-ups every graph rewriter needs.
enum GraphEditing {
    static func node(_ opType: String, _ name: String, _ inputs: [String], _ outputs: [String],
                     attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = name
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    /// How reports and `--exclude-node` name a node: its name, else its first output.
    static func displayName(of node: Onnx_NodeProto) -> String {
        node.name.isEmpty ? node.output.first ?? node.opType : node.name
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = value
        return attribute
    }

    /// Whether `node` is an ONNX operator (the default domain), not a contrib or custom one.
    static func isDefaultDomain(_ node: Onnx_NodeProto) -> Bool {
        node.domain.isEmpty || node.domain == "ai.onnx"
    }

    /// The string attribute `name` of `node`, nil when absent.
    static func stringAttribute(_ name: String, of node: Onnx_NodeProto) -> String? {
        node.attribute.first { $0.name == name }.map { String(decoding: $0.s, as: UTF8.self) }
    }

    /// The default-domain opset the model imports, 0 when it imports none.
    static func defaultOpset(of model: Onnx_ModelProto) -> Int {
        model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
    }

    /// Turns tensor-valued Constant nodes into initializers, so weights that an exporter wrote as
    /// Constant nodes (paddle2onnx does) are quantizable like any initializer.
    static func hoistConstantTensors(_ graph: inout Onnx_GraphProto) {
        var kept: [Onnx_NodeProto] = []
        for node in graph.node {
            guard node.opType == "Constant", isDefaultDomain(node), node.output.count == 1,
                  node.attribute.count == 1, node.attribute[0].name == "value", node.attribute[0].type == .tensor else {
                kept.append(node)
                continue
            }
            var tensor = node.attribute[0].t
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
        }
        graph.node = kept
    }

    /// Float weights that only the replaced nodes read would otherwise stay in the file.
    static func dropUnusedInitializers(_ graph: inout Onnx_GraphProto) {
        let used = Set(graph.node.flatMap(\.input)).union(graph.output.map(\.name))
        let unused = Set(graph.initializer.map(\.name)).subtracting(used)
        graph.initializer.removeAll { unused.contains($0.name) }
        // Models before IR version 4 also list initializers as graph inputs.
        graph.input.removeAll { unused.contains($0.name) }
    }
}
