import Inference

/// Raises a model's default-domain opset, so a scheme that needs newer quantization ops
/// (per-channel QDQ at 13, blocked int4 at 21) can run on opset 11 to 20 exports.
///
/// Nodes whose op changed form in between are rewritten to the new form: `axes` (and Split's
/// `split`) moved from attributes to inputs. A node whose meaning changed in a way the graph alone
/// cannot settle is named in the refusal instead.
enum OpsetUpgrade {
    /// The attribute each op turned into an input (always its second input), by the opset that moved it.
    private static let attributeMovedToInput: [Int: [String: String]] = [
        13: ["Split": "split", "Squeeze": "axes", "Unsqueeze": "axes", "ReduceSum": "axes"],
        18: Dictionary(uniqueKeysWithValues: [
            "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
            "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
        ].map { ($0, "axes") }),
    ]
    /// Before 13 these flattened their input to 2-D at `axis`; from 13 they act along `axis` alone.
    /// Both agree only when `axis` is the last one, which the graph says only as -1.
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
        let unsettled = model.graph.node.filter { isDefaultDomain($0) && changedMeaning($0, from: opset, to: target) }
        guard unsettled.isEmpty else {
            let names = unsettled.map { "\($0.opType) '\(GraphEditing.displayName(of: $0))'" }
            throw .unsupportedOpset(found: opset, needed: target, scheme: scheme,
                                    why: "\(why), and \(names.joined(separator: ", ")) changed meaning at opset 13 "
                                        + "(it flattened to 2-D at an axis that is not given as -1)")
        }
        let moved = attributeMovedToInput.filter { opset < $0.key && $0.key <= target }.values
            .reduce(into: [String: String]()) { $0.merge($1) { first, _ in first } }
        var names = Set(model.graph.initializer.map(\.name))
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

    private static func changedMeaning(_ node: Onnx_NodeProto, from opset: Int, to target: Int) -> Bool {
        guard opset < 13, target >= 13, flatteningBefore13.contains(node.opType) else { return false }
        return (node.attribute.first { $0.name == "axis" }?.i ?? 1) != -1
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
