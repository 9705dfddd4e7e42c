/// ai.onnx.ml TreeEnsemble (ml opset 5): the regression of TreeEnsembleRegressor with interior nodes
/// (nodes_*) and leaves (leaf_*) in separate lists, roots listed, enumerations as integers and
/// BRANCH_MEMBER set tests.
extension TreeEnsembleRegressor {
    /// onnxruntime's numbering of aggregate_function, which is the ONNX one.
    private static let aggregates: [Int: TreeAggregate] = [0: .average, 1: .sum, 2: .min, 3: .max]
    /// nodes_modes codes; 6 is BRANCH_MEMBER.
    private static let modes: [UInt8: TreeBranchMode] = [0: .lessOrEqual, 1: .less, 2: .greaterOrEqual, 3: .greater, 4: .equal, 5: .notEqual]
    private static let memberMode: UInt8 = 6

    init(treeEnsemble context: OperatorContext) throws {
        let attributes = context.attributes
        func invalid(_ attribute: String, _ reason: String) -> InferenceError {
            InferenceError.invalidAttribute(node: attributes.node, attribute: attribute, reason: reason)
        }
        func values(_ name: String) throws -> [Double]? {
            guard let tensor = try attributes.tensor(name) else { return nil }
            guard tensor.elementType == .float32 || tensor.elementType == .float64 else {
                throw invalid(name, "must be a float or double tensor, got \(tensor.elementType.rawValue)")
            }
            return tensor.storage.doubles
        }

        let targets = try attributes.int("n_targets", default: 0)
        guard targets > 0 else { throw invalid("n_targets", "must be at least 1, got \(targets)") }
        let aggregateCode = try attributes.int("aggregate_function", default: 1)
        guard let aggregate = Self.aggregates[aggregateCode] else {
            throw invalid("aggregate_function", "must be 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX), got \(aggregateCode)")
        }
        let transformCode = try attributes.int("post_transform", default: 0)
        guard let transform = ScoreTransform(onnxruntimeCode: transformCode) else {
            throw invalid("post_transform", "must be 0 (NONE), 1 (LOGISTIC), 2 (SOFTMAX), 3 (SOFTMAX_ZERO) or 4 (PROBIT), got \(transformCode)")
        }

        guard let modeTensor = try attributes.tensor("nodes_modes") else { throw invalid("nodes_modes", "is required") }
        guard case .uint8(let modeCodes) = modeTensor.storage else {
            throw invalid("nodes_modes", "must be a uint8 tensor, got \(modeTensor.elementType.rawValue)")
        }
        let features = try attributes.ints("nodes_featureids") ?? [], splits = try values("nodes_splits") ?? []
        let trueIds = try attributes.ints("nodes_truenodeids") ?? [], trueLeafs = try attributes.ints("nodes_trueleafs") ?? []
        let falseIds = try attributes.ints("nodes_falsenodeids") ?? [], falseLeafs = try attributes.ints("nodes_falseleafs") ?? []
        let missingTracksTrue = try attributes.ints("nodes_missing_value_tracks_true") ?? Array(repeating: 0, count: modeCodes.count)
        let lengths = ["nodes_featureids": features.count, "nodes_splits": splits.count, "nodes_truenodeids": trueIds.count,
                       "nodes_trueleafs": trueLeafs.count, "nodes_falsenodeids": falseIds.count, "nodes_falseleafs": falseLeafs.count,
                       "nodes_missing_value_tracks_true": missingTracksTrue.count]
        for (name, length) in lengths.sorted(by: { $0.key < $1.key }) where length != modeCodes.count {
            throw invalid(name, "has \(length) entries, nodes_modes has \(modeCodes.count)")
        }
        let leafTargets = try attributes.ints("leaf_targetids") ?? [], leafWeights = try values("leaf_weights") ?? []
        guard leafWeights.count == leafTargets.count else {
            throw invalid("leaf_weights", "has \(leafWeights.count) entries, leaf_targetids has \(leafTargets.count)")
        }

        var layout = TreeEnsembleLayout(node: attributes.node)
        layout.leavesMayBeShared = true
        layout.leaves = try leafTargets.indices.map { leaf in
            guard (0..<targets).contains(leafTargets[leaf]) else {
                throw invalid("leaf_targetids", "entry \(leaf) is \(leafTargets[leaf]), outside 0..<\(targets)")
            }
            return .init(source: leaf, weights: [.init(target: leafTargets[leaf], value: leafWeights[leaf])])
        }
        func child(_ ids: [Int], _ leafs: [Int], _ name: String, of node: Int) throws -> TreeEnsembleLayout.Child {
            let isLeaf = leafs[node] != 0, count = isLeaf ? leafTargets.count : modeCodes.count
            guard (0..<count).contains(ids[node]) else {
                throw invalid(name, "entry \(node) is \(ids[node]), outside the \(count) \(isLeaf ? "leaves" : "nodes")")
            }
            return isLeaf ? .leaf(ids[node]) : .branch(ids[node])
        }
        // membership_values: one set per BRANCH_MEMBER node, in node order, each ended by a NaN.
        var members = (try values("membership_values") ?? [])[...]
        for node in modeCodes.indices {
            let thresholds: [Double], mode: TreeBranchMode
            if modeCodes[node] == Self.memberMode {
                let set = members.prefix { !$0.isNaN }
                members = members.dropFirst(set.count + 1)
                guard !set.isEmpty else { throw invalid("membership_values", "has no members for the BRANCH_MEMBER node \(node)") }
                (thresholds, mode) = (Array(set), .equal)
            } else {
                guard let branchMode = Self.modes[modeCodes[node]] else {
                    throw invalid("nodes_modes", "entry \(node) is \(modeCodes[node]), not a mode 0-6")
                }
                (thresholds, mode) = ([splits[node]], branchMode)
            }
            guard features[node] >= 0 else { throw invalid("nodes_featureids", "entry \(node) is negative") }
            layout.branches.append(.init(
                source: node, feature: features[node], mode: mode, thresholds: thresholds,
                missingGoesTrue: missingTracksTrue[node] == 1,
                whenTrue: try child(trueIds, trueLeafs, "nodes_truenodeids", of: node),
                whenFalse: try child(falseIds, falseLeafs, "nodes_falsenodeids", of: node)))
        }
        guard let roots = try attributes.ints("tree_roots") else { throw invalid("tree_roots", "is required") }
        layout.roots = try roots.map { root in
            guard modeCodes.indices.contains(root) else { throw invalid("tree_roots", "\(root) is outside the \(modeCodes.count) nodes") }
            return .branch(root)
        }
        self.init(model: try layout.model(targetCount: targets, bases: []), aggregate: aggregate, transform: transform, isTreeEnsemble: true)
    }
}
