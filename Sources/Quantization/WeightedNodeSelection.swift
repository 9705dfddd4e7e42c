import Inference

/// The weighted nodes of a graph a scheme will quantize, by position, and those it leaves in float with why.
struct WeightedNodeSelection {
    private(set) var chosen: [Int: WeightedNode] = [:]
    private(set) var skipped: [QuantizationReport.SkippedNode] = []

    /// Names of the chosen nodes in graph order.
    var quantizedNames: [String] { chosenInOrder.map(\.name) }

    var chosenInOrder: [WeightedNode] { chosen.keys.sorted().map { chosen[$0]! } }

    init(graph: Onnx_GraphProto, rules: FloatKeepingRules, opTypes: Set<String>) {
        let initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, node) in graph.node.enumerated() {
            let name = GraphEditing.displayName(of: node)
            switch WeightedNode.find(node, initializers: initializers) {
            case nil:
                continue
            case .failure(let unsupported)?:
                skipped.append(.init(name: name, opType: node.opType, reason: unsupported.reason))
            case .success(let weighted)?:
                if !opTypes.contains(node.opType) {
                    skipped.append(.init(name: name, opType: node.opType, reason: "this scheme quantizes \(opTypes.sorted().joined(separator: " and ")) only"))
                } else if let reason = rules.reasonToKeepFloat(node) {
                    skipped.append(.init(name: name, opType: node.opType, reason: reason))
                } else {
                    chosen[index] = weighted
                }
            }
        }
    }
}
