/// Who produces and who reads each value of a graph: what rewrites that replace a chain of nodes
/// (a decomposed LayerNormalization or GELU) check before they touch it.
struct ValueReaders {
    let producers: [String: Int]
    private let readers: [String: [Int]]
    private let graphOutputs: Set<String>
    private let nodes: [NodeDefinition]

    init(_ graph: GraphDefinition) {
        var producers: [String: Int] = [:], readers: [String: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs { producers[output] = index }
            for input in node.inputs where !input.isEmpty { readers[input, default: []].append(index) }
        }
        (self.producers, self.readers, graphOutputs, nodes) = (producers, readers, Set(graph.outputs.map(\.name)), graph.nodes)
    }

    /// The nodes reading `value`, none when it is also a graph output (it must then stay computed).
    func readers(of value: String) -> [NodeDefinition] {
        graphOutputs.contains(value) ? [] : (readers[value] ?? []).map { nodes[$0] }
    }

    /// The one node reading `value`, when it is of `opType` in the default domain and `value` is no
    /// graph output. A node without outputs (a malformed model) is no link of any chain: the
    /// rewrites read the next value from its first output.
    func soleReader(of value: String, _ opType: String) -> NodeDefinition? {
        let reading = readers(of: value)
        guard reading.count == 1, reading[0].domain.isEmpty, reading[0].opType == opType, !reading[0].outputs.isEmpty else { return nil }
        return reading[0]
    }
}

extension GraphDefinition {
    /// Drops the nodes at `removed` and puts each of `replaced` in place of the node at its position.
    mutating func replaceNodes(removing removed: Set<Int>, replacing replaced: [Int: NodeDefinition]) {
        guard !removed.isEmpty || !replaced.isEmpty else { return }
        nodes = nodes.enumerated().compactMap { index, node in removed.contains(index) ? nil : replaced[index] ?? node }
    }
}
