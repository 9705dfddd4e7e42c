import Inference

/// Raises a model's default-domain opset, so a scheme that needs newer quantization ops
/// (per-channel QDQ at 13, blocked int4 at 21) can run on opset 11 to 20 exports.
///
/// Nodes whose op changed form or meaning in between are rewritten to the new form: `axes` (and
/// Split's `split`) moved from attributes to inputs, and Softmax, LogSoftmax and Hardmax, which
/// flattened their input to 2-D before 13, become Flatten, the op along the last axis, and Reshape
/// back, as onnxruntime's converter does.
enum OpsetUpgrade {
    /// The attribute each op turned into an input (always its second input), by the opset that moved it.
    private static let attributeMovedToInput: [Int: [String: String]] = [
        13: ["Split": "split", "Squeeze": "axes", "Unsqueeze": "axes", "ReduceSum": "axes"],
        18: Dictionary(uniqueKeysWithValues: [
            "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
            "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
        ].map { ($0, "axes") }),
    ]
    /// Before 13 these flattened their input to 2-D at `axis` (default 1); from 13 they act along
    /// `axis` alone. Both agree only when `axis` is the last one, which the graph says only as -1.
    private static let flatteningBefore13: Set<String> = ["Softmax", "LogSoftmax", "Hardmax"]
    /// Below this the ops changed too widely (opset 11 rewrote Resize, Clip, pads...) to upgrade blind.
    static let oldestUpgradable = 11

    static func raise(_ model: inout Onnx_ModelProto, to target: Int, scheme: QuantizationScheme, why: String) throws(QuantizationError) {
        let opset = GraphEditing.defaultOpset(of: model)
        guard opset < target else { return }
        guard opset >= oldestUpgradable else {
            throw .unsupportedOpset(found: opset, needed: target, scheme: scheme,
                                    why: "\(why); upgrading from below \(oldestUpgradable) automatically is unsafe")
        }
        var names = Set(model.graph.initializer.map(\.name) + model.graph.node.flatMap { $0.output } + model.graph.input.map(\.name))
        if opset < 13 && target >= 13 { keepFlattening(&model.graph, names: &names) }
        let moved = attributeMovedToInput.filter { opset < $0.key && $0.key <= target }.values
            .reduce(into: [String: String]()) { $0.merge($1) { first, _ in first } }
        for index in model.graph.node.indices where isDefaultDomain(model.graph.node[index]) {
            guard let attribute = moved[model.graph.node[index].opType],
                  let tensor = moveToInput(attribute, of: &model.graph.node[index], avoiding: names) else { continue }
            model.graph.initializer.append(tensor)
            names.insert(tensor.name)
        }
        for index in model.opsetImport.indices where ["", "ai.onnx"].contains(model.opsetImport[index].domain) {
            model.opsetImport[index].version = Int64(target)
        }
    }

    private static func isDefaultDomain(_ node: Onnx_NodeProto) -> Bool {
        node.domain.isEmpty || node.domain == "ai.onnx"
    }

    /// Each flattening Softmax, LogSoftmax or Hardmax whose axis is not -1 becomes
    /// Shape(X), Flatten(X, axis), the op along axis -1, Reshape to Shape(X): what it computed before 13.
    private static func keepFlattening(_ graph: inout Onnx_GraphProto, names: inout Set<String>) {
        func fresh(_ base: String) -> String {
            var name = base
            while names.contains(name) { name += "_" }
            names.insert(name)
            return name
        }
        var rewritten: [Onnx_NodeProto] = []
        for node in graph.node {
            let axis = node.attribute.first { $0.name == "axis" }?.i ?? 1
            guard isDefaultDomain(node), flatteningBefore13.contains(node.opType), axis != -1, let x = node.input.first, let y = node.output.first else {
                rewritten.append(node)
                continue
            }
            let name = GraphEditing.displayName(of: node)
            let (shape, flat, along) = (fresh("\(name)_shape"), fresh("\(name)_flat"), fresh("\(name)_2d"))
            rewritten.append(.with {
                $0.opType = "Shape"
                $0.name = fresh("\(name)/Shape")
                $0.input = [x]
                $0.output = [shape]
            })
            rewritten.append(.with {
                $0.opType = "Flatten"
                $0.name = fresh("\(name)/Flatten")
                $0.input = [x]
                $0.output = [flat]
                $0.attribute = [.with { $0.name = "axis"; $0.type = .int; $0.i = axis }]
            })
            var lastAxis = node
            lastAxis.input = [flat]
            lastAxis.output = [along]
            lastAxis.attribute = node.attribute.filter { $0.name != "axis" } + [.with { $0.name = "axis"; $0.type = .int; $0.i = -1 }]
            rewritten.append(lastAxis)
            rewritten.append(.with {
                $0.opType = "Reshape"
                $0.name = fresh("\(name)/Reshape")
                $0.input = [along, shape]
                $0.output = [y]
            })
        }
        graph.node = rewritten
    }

    /// Turns the ints attribute `name` into the node's second input; returns the int64 initializer
    /// that now holds it, nil when the node has no such attribute.
    private static func moveToInput(_ name: String, of node: inout Onnx_NodeProto, avoiding names: Set<String>) -> Onnx_TensorProto? {
        guard let position = node.attribute.firstIndex(where: { $0.name == name }) else { return nil }
        let values = node.attribute.remove(at: position).ints
        var tensor = Tensor(shape: [values.count], int64s: values).onnxTensor(named: "\(GraphEditing.displayName(of: node))_\(name)")
        while names.contains(tensor.name) { tensor.name += "_" }
        node.input.insert(tensor.name, at: 1)
        return tensor
    }
}
