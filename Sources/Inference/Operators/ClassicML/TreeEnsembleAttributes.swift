/// The attributes TreeEnsembleClassifier and TreeEnsembleRegressor (ml opsets 1 and 3) share: the
/// nodes_* tuples, the leaf weights (class_* or target_*) and the base values, read into a
/// `TreeEnsembleLayout` the way onnxruntime reads them. Every attribute with an `_as_tensor` twin
/// may come as that tensor (float or double) instead.
struct TreeEnsembleAttributes {
    /// The prefix of the weight attributes: "class" or "target".
    let weightPrefix: String
    /// The attribute naming each weight's class or target: "class_ids" or "target_ids".
    let targetIdsName: String
    let attributes: NodeAttributes

    private struct NodeKey: Hashable {
        let tree: Int
        let node: Int
    }

    /// The trees, each rooted where onnxruntime roots it: at the first entry of each run of equal
    /// nodes_treeids (a tree whose entries are not consecutive counts once per run).
    func layout(targetCount: Int) throws -> TreeEnsembleLayout {
        let treeIds = try attributes.ints("nodes_treeids") ?? [], nodeIds = try attributes.ints("nodes_nodeids") ?? []
        let featureIds = try attributes.ints("nodes_featureids") ?? [], modeNames = try attributes.strings("nodes_modes") ?? []
        let trueIds = try attributes.ints("nodes_truenodeids") ?? [], falseIds = try attributes.ints("nodes_falsenodeids") ?? []
        let thresholds = try doubles("nodes_values") ?? []
        // Entries past the end of this list are false, as in onnxruntime.
        let missingTracksTrue = try attributes.ints("nodes_missing_value_tracks_true") ?? []
        try requireLengths(of: ["nodes_treeids": treeIds.count, "nodes_featureids": featureIds.count, "nodes_modes": modeNames.count,
                                "nodes_truenodeids": trueIds.count, "nodes_falsenodeids": falseIds.count, "nodes_values": thresholds.count],
                           equal: "nodes_nodeids", nodeIds.count)

        var positions: [NodeKey: Int] = [:], children: [TreeEnsembleLayout.Child] = []
        var layout = TreeEnsembleLayout(node: attributes.node)
        var leafWeights: [[TreeEnsembleLayout.Weight]] = []
        for position in nodeIds.indices {
            let key = NodeKey(tree: treeIds[position], node: nodeIds[position])
            guard positions.updateValue(position, forKey: key) == nil else {
                throw invalid("nodes_nodeids", "tree \(key.tree) has node \(key.node) twice")
            }
            if modeNames[position] == "LEAF" {
                children.append(.leaf(leafWeights.count))
                leafWeights.append([])
            } else {
                children.append(.branch(children.count - leafWeights.count))
            }
        }
        func child(_ ids: [Int], _ name: String, of position: Int) throws -> TreeEnsembleLayout.Child {
            guard let target = positions[NodeKey(tree: treeIds[position], node: ids[position])] else {
                throw invalid(name, "entry \(position) points to node \(ids[position]), which tree \(treeIds[position]) does not have")
            }
            return children[target]
        }
        for position in nodeIds.indices where modeNames[position] != "LEAF" {
            guard let mode = TreeBranchMode(rawValue: modeNames[position]) else {
                let names = TreeBranchMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw invalid("nodes_modes", "entry \(position) is '\(modeNames[position])', not one of \(names), LEAF")
            }
            guard featureIds[position] >= 0 else { throw invalid("nodes_featureids", "entry \(position) is negative") }
            layout.branches.append(.init(
                source: position, feature: featureIds[position], mode: mode, thresholds: [thresholds[position]],
                missingGoesTrue: position < missingTracksTrue.count && missingTracksTrue[position] == 1,
                whenTrue: try child(trueIds, "nodes_truenodeids", of: position),
                whenFalse: try child(falseIds, "nodes_falsenodeids", of: position)))
        }

        let targets = try attributes.ints(targetIdsName) ?? [], weightTrees = try attributes.ints("\(weightPrefix)_treeids") ?? []
        let weightNodes = try attributes.ints("\(weightPrefix)_nodeids") ?? [], weights = try leafWeightValues()
        try requireLengths(of: ["\(weightPrefix)_treeids": weightTrees.count, "\(weightPrefix)_nodeids": weightNodes.count,
                                "\(weightPrefix)_weights": weights.count],
                           equal: targetIdsName, targets.count)
        for entry in targets.indices {
            guard (0..<targetCount).contains(targets[entry]) else {
                throw invalid(targetIdsName, "entry \(entry) is \(targets[entry]), outside 0..<\(targetCount)")
            }
            guard let position = positions[NodeKey(tree: weightTrees[entry], node: weightNodes[entry])] else {
                throw invalid("\(weightPrefix)_nodeids", "entry \(entry) names node \(weightNodes[entry]) of tree \(weightTrees[entry]), which nodes_* do not define")
            }
            // onnxruntime ignores a weight on a branch node (old converters wrote some).
            if case .leaf(let leaf) = children[position] {
                leafWeights[leaf].append(.init(target: targets[entry], value: weights[entry]))
            }
        }
        layout.leaves = zip(nodeIds.indices.filter { modeNames[$0] == "LEAF" }, leafWeights).map { .init(source: $0, weights: $1) }
        layout.roots = nodeIds.indices.filter { $0 == 0 || treeIds[$0] != treeIds[$0 - 1] }.map { children[$0] }
        return layout
    }

    /// base_values (or base_values_as_tensor), in any count `allowed` accepts.
    func bases(allowed: (Int) -> Bool, expected: String) throws -> [Double] {
        let bases = try doubles("base_values") ?? []
        guard allowed(bases.count) else { throw invalid("base_values", "has \(bases.count) values, expected \(expected)") }
        return bases
    }

    /// The weights as written, so the classifier can tell whether any is negative.
    func leafWeightValues() throws -> [Double] { try doubles("\(weightPrefix)_weights") ?? [] }

    /// A float list attribute or its `_as_tensor` twin; nil when neither is given.
    private func doubles(_ name: String) throws -> [Double]? {
        let list = try attributes.floats(name), tensor = try attributes.tensor(name + "_as_tensor")
        switch (list, tensor) {
        case (nil, nil): return nil
        case (let list?, nil): return list.map(Double.init)
        case (nil, let tensor?):
            guard tensor.elementType == .float32 || tensor.elementType == .float64 else {
                throw invalid(name + "_as_tensor", "must be a float or double tensor, got \(tensor.elementType.rawValue)")
            }
            return tensor.storage.doubles
        case (_?, _?): throw invalid(name, "is given twice, also as \(name)_as_tensor")
        }
    }

    private func requireLengths(of lengths: [String: Int], equal reference: String, _ count: Int) throws {
        for (name, length) in lengths.sorted(by: { $0.key < $1.key }) where length != count {
            throw invalid(name, "has \(length) entries, \(reference) has \(count)")
        }
    }

    func invalid(_ attribute: String, _ reason: String) -> InferenceError {
        InferenceError.invalidAttribute(node: attributes.node, attribute: attribute, reason: reason)
    }
}
