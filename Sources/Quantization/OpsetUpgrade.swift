import Inference

/// Raises a model's default-domain opset, so a scheme that needs newer quantization ops
/// (per-channel QDQ at 13, blocked int4 at 21) can run on opset 9 to 20 exports.
///
/// Nodes whose op changed form or meaning in between are rewritten to the new form: attributes
/// that became inputs (Slice's starts/ends/axes and TopK's k at 10, Pad's pads and value and Clip's
/// min and max at 11, Dropout's ratio at 12, `axes` and Split's `split` at 13 and 18), Scatter
/// renamed ScatterElements at 11, and Softmax, LogSoftmax and Hardmax, which flattened their input
/// to 2-D before 13, become Flatten, the op along the last axis, and Reshape back, as onnxruntime's
/// converter does. Ops whose meaning changed in ways a rewrite cannot keep (Upsample, and Resize
/// before 11) are refused, named.
enum OpsetUpgrade {
    /// An attribute that became input `position` of its op, holding `form`.
    private struct MovedAttribute {
        enum Form { case int64List, int64Scalar, floatScalar }
        let attribute: String
        let position: Int
        let form: Form
    }

    /// The attributes each op turned into inputs, by the opset that moved them.
    private static let attributesMovedToInputs: [Int: [String: [MovedAttribute]]] = [
        10: ["Slice": [.init(attribute: "starts", position: 1, form: .int64List), .init(attribute: "ends", position: 2, form: .int64List),
                       .init(attribute: "axes", position: 3, form: .int64List)],
             "TopK": [.init(attribute: "k", position: 1, form: .int64Scalar)]],
        11: ["Pad": [.init(attribute: "pads", position: 1, form: .int64List), .init(attribute: "value", position: 2, form: .floatScalar)],
             "Clip": [.init(attribute: "min", position: 1, form: .floatScalar), .init(attribute: "max", position: 2, form: .floatScalar)]],
        12: ["Dropout": [.init(attribute: "ratio", position: 1, form: .floatScalar)]],
        13: Dictionary(uniqueKeysWithValues: [("Split", "split"), ("Squeeze", "axes"), ("Unsqueeze", "axes"), ("ReduceSum", "axes")]
            .map { ($0.0, [MovedAttribute(attribute: $0.1, position: 1, form: .int64List)]) }),
        18: Dictionary(uniqueKeysWithValues: [
            "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
            "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
        ].map { ($0, [MovedAttribute(attribute: "axes", position: 1, form: .int64List)]) }),
    ]
    /// Ops renamed without a change of meaning, by the opset that renamed them.
    private static let renamed: [Int: [String: String]] = [11: ["Scatter": "ScatterElements"]]
    /// Ops whose meaning changed at the opset given, beyond what a rewrite here keeps: Upsample was
    /// removed at 10, and Resize changed its coordinate mapping at 11.
    private static let unraisable: [String: Int] = ["Upsample": 10, "Resize": 11]
    /// Before 13 these flattened their input to 2-D at `axis` (default 1); from 13 they act along
    /// `axis` alone. Both agree only when `axis` is the last one, which the graph says only as -1.
    private static let flatteningBefore13: Set<String> = ["Softmax", "LogSoftmax", "Hardmax"]
    /// Below this BatchNormalization and others carried attributes (spatial, is_test,
    /// consumed_inputs) whose rewrite is not known here.
    static let oldestUpgradable = 9

    static func raise(_ model: inout Onnx_ModelProto, to target: Int, scheme: QuantizationScheme, why: String) throws(QuantizationError) {
        let opset = GraphEditing.defaultOpset(of: model)
        guard opset < target else { return }
        guard opset >= oldestUpgradable else {
            throw .unsupportedOpset(found: opset, needed: target, scheme: scheme,
                                    why: "\(why); upgrading from below \(oldestUpgradable) automatically is unsafe")
        }
        let crossed = { (change: Int) in opset < change && change <= target }
        let stuck = model.graph.node.filter { GraphEditing.isDefaultDomain($0) && unraisable[$0.opType].map(crossed) == true }
        if let node = stuck.first {
            throw .unsupportedOpset(found: opset, needed: target, scheme: scheme,
                                    why: "\(why); \(node.opType) ('\(GraphEditing.displayName(of: node))') changed meaning at opset \(unraisable[node.opType]!), which cannot be rewritten safely")
        }
        var names = Set(model.graph.initializer.map(\.name) + model.graph.node.flatMap { $0.output } + model.graph.input.map(\.name))
        if opset < 13 && target >= 13 { keepFlattening(&model.graph, names: &names) }
        let moved = attributesMovedToInputs.filter { crossed($0.key) }.values
            .reduce(into: [String: [MovedAttribute]]()) { $0.merge($1) { first, _ in first } }
        let renames = renamed.filter { crossed($0.key) }.values.reduce(into: [String: String]()) { $0.merge($1) { first, _ in first } }
        for index in model.graph.node.indices where GraphEditing.isDefaultDomain(model.graph.node[index]) {
            if let name = renames[model.graph.node[index].opType] { model.graph.node[index].opType = name }
            for attribute in moved[model.graph.node[index].opType] ?? [] {
                guard let tensor = moveToInput(attribute, of: &model.graph.node[index], avoiding: names) else { continue }
                model.graph.initializer.append(tensor)
                names.insert(tensor.name)
            }
        }
        for index in model.opsetImport.indices where ["", "ai.onnx"].contains(model.opsetImport[index].domain) {
            model.opsetImport[index].version = Int64(target)
        }
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
            guard GraphEditing.isDefaultDomain(node), flatteningBefore13.contains(node.opType), axis != -1, let x = node.input.first, let y = node.output.first else {
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

    /// Turns the attribute `moved` names into its input; returns the initializer that now holds it,
    /// nil when the node has no such attribute. Optional inputs before it that are absent get the
    /// empty name, as ONNX marks them (Clip with only a max).
    private static func moveToInput(_ moved: MovedAttribute, of node: inout Onnx_NodeProto, avoiding names: Set<String>) -> Onnx_TensorProto? {
        guard let position = node.attribute.firstIndex(where: { $0.name == moved.attribute }) else { return nil }
        let attribute = node.attribute.remove(at: position)
        let value: Tensor = switch moved.form {
        case .int64List: Tensor(shape: [attribute.ints.count], int64s: attribute.ints)
        case .int64Scalar: Tensor(shape: [1], int64s: [attribute.i])
        case .floatScalar: Tensor(shape: [], floats: [attribute.f])
        }
        var tensor = value.onnxTensor(named: "\(GraphEditing.displayName(of: node))_\(moved.attribute)")
        while names.contains(tensor.name) { tensor.name += "_" }
        while node.input.count < moved.position { node.input.append("") }
        if node.input.count == moved.position {
            node.input.append(tensor.name)
        } else {
            node.input[moved.position] = tensor.name
        }
        return tensor
    }
}
