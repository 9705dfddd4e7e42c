import Inference

/// Raises a model's default-domain opset when no node it holds changed meaning in between, so a
/// scheme that needs newer quantization ops (per-channel QDQ at 13, blocked int4 at 21) can run on
/// opset 11 and 12 exports. A node that did change is named in the refusal instead.
enum OpsetUpgrade {
    /// Ops whose attributes or semantics changed at each opset (from 11 on), as far as a plain
    /// version bump would misread them.
    private static let changedAt: [Int: Set<String>] = [
        // axes and split moved from attributes to inputs; Softmax's axis stopped flattening to 2-D.
        13: ["Split", "Squeeze", "Unsqueeze", "ReduceSum", "Softmax", "LogSoftmax", "Hardmax"],
        // The remaining reductions' axes moved to an input.
        18: ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
             "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"],
    ]
    /// Below this the ops changed too widely (opset 11 rewrote Resize, Clip, pads...) to upgrade blind.
    static let oldestUpgradable = 11

    static func raise(_ model: inout Onnx_ModelProto, to target: Int, scheme: QuantizationScheme, why: String) throws(QuantizationError) {
        let opset = GraphEditing.defaultOpset(of: model)
        guard opset < target else { return }
        guard opset >= oldestUpgradable else {
            throw .unsupportedOpset(found: opset, needed: target, scheme: scheme,
                                    why: "\(why); upgrading from below \(oldestUpgradable) automatically is unsafe")
        }
        let changedOps = changedAt.filter { opset < $0.key && $0.key <= target }.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        let changed = Set(model.graph.node.map(\.opType)).intersection(changedOps)
        guard changed.isEmpty else {
            throw .unsupportedOpset(found: opset, needed: target, scheme: scheme,
                                    why: "\(why), and \(changed.sorted().joined(separator: ", ")) changed meaning since")
        }
        for index in model.opsetImport.indices where ["", "ai.onnx"].contains(model.opsetImport[index].domain) {
            model.opsetImport[index].version = Int64(target)
        }
    }
}
