/// The trees as an operator's attributes describe them, with every reference already checked to be
/// in range: branch nodes and leaves by index, and the root of each tree. `model` flattens them.
struct TreeEnsembleLayout {
    enum Child {
        case branch(Int)
        case leaf(Int)
    }

    struct Branch {
        /// The entry of the nodes_* attributes the branch comes from, for error messages.
        let source: Int
        let feature: Int
        let mode: TreeBranchMode
        /// One threshold, or the members of a BRANCH_MEMBER set, each tested in turn with EQ.
        let thresholds: [Double]
        let missingGoesTrue: Bool
        let whenTrue: Child
        let whenFalse: Child
    }

    struct Weight {
        let target: Int
        let value: Double
    }

    struct Leaf {
        /// The attribute entry the leaf comes from, for error messages.
        let source: Int
        let weights: [Weight]
    }

    let node: String
    var branches: [Branch] = []
    var leaves: [Leaf] = []
    var roots: [Child] = []
    /// ml opsets 1 and 3 refuse a leaf reached twice within a tree, as onnxruntime does; TreeEnsemble
    /// shares leaves (its one-leaf tree points both branches at the same leaf).
    var leavesMayBeShared = false

    /// The flattened model. Each tree is laid out from its root, so a branch reached twice within
    /// one tree (a cycle, or a shared subtree, which onnxruntime refuses too) is an error here
    /// instead of an endless walk.
    func model(targetCount: Int, bases: [Double]) throws -> TreeEnsembleModel {
        var features: [Int] = [], modes: [TreeBranchMode] = [], missingGoesTrue: [Bool] = [], thresholds: [Double] = []
        var trueChildren: [Int32] = [], falseChildren: [Int32] = [], rootReferences: [Int32] = []
        var branchTree = Array(repeating: -1, count: branches.count), leafTree = Array(repeating: -1, count: leaves.count)
        var unlinked: [(nodes: ClosedRange<Int>, branch: Int)] = []

        func place(_ child: Child, tree: Int) throws -> Int32 {
            switch child {
            case .leaf(let leaf):
                if !leavesMayBeShared {
                    guard leafTree[leaf] != tree else { throw reachedTwice(leaves[leaf].source, tree: tree) }
                    leafTree[leaf] = tree
                }
                return ~Int32(leaf)
            case .branch(let index):
                guard branchTree[index] != tree else { throw reachedTwice(branches[index].source, tree: tree) }
                branchTree[index] = tree
                let branch = branches[index], first = features.count
                guard first + branch.thresholds.count < Int(Int32.max) else {
                    throw InferenceError.invalidAttribute(node: node, attribute: "nodes_featureids", reason: "the trees have more than 2^31 nodes")
                }
                for threshold in branch.thresholds {
                    features.append(branch.feature)
                    modes.append(branch.thresholds.count > 1 ? .equal : branch.mode)
                    missingGoesTrue.append(branch.missingGoesTrue)
                    thresholds.append(threshold)
                    trueChildren.append(0)
                    falseChildren.append(Int32(features.count))
                }
                unlinked.append((first...features.count - 1, index))
                return Int32(first)
            }
        }

        for (tree, root) in roots.enumerated() {
            rootReferences.append(try place(root, tree: tree))
            while let (nodes, index) = unlinked.popLast() {
                let whenTrue = try place(branches[index].whenTrue, tree: tree)
                for node in nodes { trueChildren[node] = whenTrue }
                falseChildren[nodes.upperBound] = try place(branches[index].whenFalse, tree: tree)
            }
        }

        let weights = leaves.flatMap(\.weights)
        let starts = leaves.reduce(into: [0]) { starts, leaf in starts.append(starts.last! + leaf.weights.count) }
        return TreeEnsembleModel(
            featureIndices: features, modes: modes, missingGoesTrue: missingGoesTrue,
            trueChildren: trueChildren, falseChildren: falseChildren, roots: rootReferences,
            leafWeightStarts: starts, weightTargets: weights.map(\.target),
            single: TreeEnsembleParameters(thresholds: thresholds.map(Float.init), weights: weights.map { Float($0.value) }, bases: bases.map(Float.init)),
            double: TreeEnsembleParameters(thresholds: thresholds, weights: weights.map(\.value), bases: bases),
            targetCount: targetCount, requiredFeatures: (features.max() ?? -1) + 1)
    }

    private func reachedTwice(_ source: Int, tree: Int) -> InferenceError {
        InferenceError.invalidAttribute(node: node, attribute: "nodes_truenodeids/nodes_falsenodeids",
                                        reason: "entry \(source) of the nodes_* attributes is reached twice in tree \(tree) (a cycle or a shared subtree)")
    }
}
