/// The comparison a branch node makes between the row's feature and its threshold: true when
/// `feature <mode> threshold`. BRANCH_MEMBER (ml opset 5) is unrolled at load into a chain of EQ nodes.
enum TreeBranchMode: String, CaseIterable, Sendable {
    case lessOrEqual = "BRANCH_LEQ"
    case less = "BRANCH_LT"
    case greaterOrEqual = "BRANCH_GTE"
    case greater = "BRANCH_GT"
    case equal = "BRANCH_EQ"
    case notEqual = "BRANCH_NEQ"
}

/// How the leaves a row reaches combine into one score per target.
enum TreeAggregate: String, CaseIterable, Sendable {
    case average = "AVERAGE"
    case sum = "SUM"
    case min = "MIN"
    case max = "MAX"
}

/// A score type the ensembles evaluate in: onnxruntime walks and sums a double input in double
/// precision and every other input in single precision.
protocol TreeEnsembleValue: BinaryFloatingPoint, Sendable {
    static func tensor(shape: [Int], values: [Self]) -> Tensor
}

extension Float: TreeEnsembleValue {
    static func tensor(shape: [Int], values: [Float]) -> Tensor { Tensor(shape: shape, floats: values) }
}

extension Double: TreeEnsembleValue {
    static func tensor(shape: [Int], values: [Double]) -> Tensor { Tensor(shape: shape, storage: .float64(values)) }
}

/// Thresholds and leaf weights in one precision.
struct TreeEnsembleParameters<Value: TreeEnsembleValue>: Sendable {
    /// One per flattened branch node.
    let thresholds: [Value]
    /// One per leaf weight.
    let weights: [Value]
    /// base_values: none, or one per target (or one for a binary classifier).
    let bases: [Value]
}

/// The scores of one row while the trees are summed: a value per target and whether any leaf gave
/// that target one (onnxruntime writes 0 for a target no leaf reached, base value or not).
struct TreeScores<Value: TreeEnsembleValue> {
    var values: [Value]
    var scored: [Bool]

    init(targetCount: Int) {
        values = Array(repeating: 0, count: targetCount)
        scored = Array(repeating: false, count: targetCount)
    }

    mutating func reset() {
        for target in values.indices {
            values[target] = 0
            scored[target] = false
        }
    }

    mutating func combine(_ weight: Value, into target: Int, by aggregate: TreeAggregate) {
        switch aggregate {
        case .sum, .average: values[target] += weight
        case .min: if !scored[target] || weight < values[target] { values[target] = weight }
        case .max: if !scored[target] || weight > values[target] { values[target] = weight }
        }
        scored[target] = true
    }
}

/// A tree ensemble flattened at load into arrays indexed by node (struct of arrays). A child
/// reference is a branch node's index when >= 0 and the leaf `~reference` when negative, so a walk
/// is a loop over integers. Built by `TreeEnsembleLayout`, shared by TreeEnsembleClassifier,
/// TreeEnsembleRegressor and TreeEnsemble.
struct TreeEnsembleModel: Sendable {
    let featureIndices: [Int]
    let modes: [TreeBranchMode]
    let missingGoesTrue: [Bool]
    let trueChildren: [Int32]
    let falseChildren: [Int32]
    /// One reference per tree, in onnxruntime's order of trees (the order sums are made in).
    let roots: [Int32]
    /// Leaf `l` holds weights `leafWeightStarts[l] ..< leafWeightStarts[l + 1]`.
    let leafWeightStarts: [Int]
    let weightTargets: [Int]
    let single: TreeEnsembleParameters<Float>
    let double: TreeEnsembleParameters<Double>
    let targetCount: Int
    /// Features a row must have: the largest feature a branch reads, plus one.
    let requiredFeatures: Int

    var treeCount: Int { roots.count }

    /// The leaf `row` reaches from `root`. A NaN feature takes the true branch where the node says
    /// missing values go there, and otherwise whichever branch its comparison gives (false, but
    /// true for NEQ), as onnxruntime does.
    @inline(__always)
    func leaf<Value: TreeEnsembleValue>(from root: Int32, row: UnsafeBufferPointer<Value>, thresholds: [Value]) -> Int {
        var reference = root
        while reference >= 0 {
            let node = Int(reference)
            let value = row[featureIndices[node]], threshold = thresholds[node]
            let holds = switch modes[node] {
            case .lessOrEqual: value <= threshold
            case .less: value < threshold
            case .greaterOrEqual: value >= threshold
            case .greater: value > threshold
            case .equal: value == threshold
            case .notEqual: value != threshold
            }
            reference = holds || (missingGoesTrue[node] && value.isNaN) ? trueChildren[node] : falseChildren[node]
        }
        return Int(~reference)
    }

    /// Sums (or averages, or takes the extreme of) the leaves `row` reaches into `scores`, which it
    /// resets first. With one target onnxruntime takes each leaf's first weight only (0 for a leaf
    /// without weights); with more, every weight of the leaf counts toward its target.
    func score<Value: TreeEnsembleValue>(_ row: UnsafeBufferPointer<Value>, parameters: TreeEnsembleParameters<Value>,
                                         aggregate: TreeAggregate, into scores: inout TreeScores<Value>) {
        scores.reset()
        for root in roots {
            let leaf = leaf(from: root, row: row, thresholds: parameters.thresholds)
            let weights = leafWeightStarts[leaf]..<leafWeightStarts[leaf + 1]
            if targetCount == 1 {
                scores.combine(weights.isEmpty ? 0 : parameters.weights[weights.lowerBound], into: 0, by: aggregate)
            } else {
                for weight in weights {
                    scores.combine(parameters.weights[weight], into: weightTargets[weight], by: aggregate)
                }
            }
        }
    }

    /// Runs `kernel` on the rows of `x`, in double precision for a double X and in single precision
    /// otherwise (integers converted as onnxruntime compares them, to float). X is [N, F], or [F] as
    /// one row; onnxruntime counts a 1-D X as one feature, so it may only feed trees that read feature 0.
    func evaluate(_ x: Tensor, with kernel: some TreeEnsembleKernel) throws -> [Tensor] {
        guard (1...2).contains(x.shape.count) else {
            throw InferenceError.invalidOperand("X must be [N, F] or [F], got shape \(x.shape)")
        }
        let count = x.shape.count == 1 ? 1 : x.shape[0]
        let stride = x.shape.last!, features = x.shape.count == 2 ? stride : min(stride, 1)
        guard requiredFeatures <= features || count == 0 else {
            throw InferenceError.invalidOperand("the trees read feature \(requiredFeatures - 1) but X has \(features) features")
        }
        switch x.storage {
        case .float32(let values): return try kernel.outputs(TreeRows(values: values, count: count, stride: stride), parameters: single)
        case .float64(let values): return try kernel.outputs(TreeRows(values: values, count: count, stride: stride), parameters: double)
        case .int64(let values):
            return try kernel.outputs(TreeRows(values: values.map(Float.init), count: count, stride: stride), parameters: single)
        case .int32(let values):
            return try kernel.outputs(TreeRows(values: values.map(Float.init), count: count, stride: stride), parameters: single)
        default:
            throw InferenceError.invalidOperand("X must be float, double, int64 or int32, got \(x.elementType.rawValue)")
        }
    }

    /// Scores each row in turn and hands its scores to `body`; one score buffer serves every row.
    func forEachRow<Value: TreeEnsembleValue>(of rows: TreeRows<Value>, parameters: TreeEnsembleParameters<Value>, aggregate: TreeAggregate,
                                              _ body: (_ row: Int, _ scores: TreeScores<Value>) throws -> Void) rethrows {
        var scores = TreeScores<Value>(targetCount: targetCount)
        try rows.values.withUnsafeBufferPointer { buffer in
            for row in 0..<rows.count {
                let features = UnsafeBufferPointer(rebasing: buffer[row * rows.stride..<(row + 1) * rows.stride])
                score(features, parameters: parameters, aggregate: aggregate, into: &scores)
                try body(row, scores)
            }
        }
    }
}

/// The rows of X in the precision they are scored in.
struct TreeRows<Value: TreeEnsembleValue> {
    let values: [Value]
    let count: Int
    let stride: Int
}

/// An operator's use of the scores: its outputs from the rows' scores, in the rows' precision.
protocol TreeEnsembleKernel {
    func outputs<Value: TreeEnsembleValue>(_ rows: TreeRows<Value>, parameters: TreeEnsembleParameters<Value>) throws -> [Tensor]
}
