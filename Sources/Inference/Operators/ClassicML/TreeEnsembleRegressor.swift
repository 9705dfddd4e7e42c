/// ai.onnx.ml TreeEnsembleRegressor (ml opsets 1 and 3), and TreeEnsemble (ml opset 5, built in
/// TreeEnsemble.swift), which is the same regression in another encoding. Per row: each target's
/// aggregated score plus its base value, then the post_transform, as onnxruntime finishes them.
/// With one target only PROBIT applies (onnxruntime ignores the other transforms there); with more,
/// a target no leaf reached is 0, whatever its base value.
struct TreeEnsembleRegressor: Operator, TreeEnsembleKernel {
    let model: TreeEnsembleModel
    let aggregate: TreeAggregate
    let transform: ScoreTransform
    /// TreeEnsemble takes float or double and answers in X's type; TreeEnsembleRegressor also takes
    /// int64 and int32 and always answers in float.
    let isTreeEnsemble: Bool

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        let description = TreeEnsembleAttributes(weightPrefix: "target", targetIdsName: "target_ids", attributes: attributes)
        let targets = try attributes.int("n_targets", default: 0)
        guard targets > 0 else { throw description.invalid("n_targets", "must be at least 1, got \(targets)") }
        let bases = try description.bases(allowed: { $0 == 0 || $0 == targets }, expected: "none or \(targets) (n_targets)")
        model = try description.layout(targetCount: targets).model(targetCount: targets, bases: bases)
        aggregate = try attributes.choice("aggregate_function", default: .sum)
        transform = try attributes.choice("post_transform", default: .none)
        isTreeEnsemble = false
    }

    init(model: TreeEnsembleModel, aggregate: TreeAggregate, transform: ScoreTransform, isTreeEnsemble: Bool) {
        self.model = model
        self.aggregate = aggregate
        self.transform = transform
        self.isTreeEnsemble = isTreeEnsemble
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        if isTreeEnsemble, x.elementType != .float32, x.elementType != .float64 {
            throw InferenceError.invalidOperand("TreeEnsemble takes float or double X (as onnxruntime), got \(x.elementType.rawValue)")
        }
        outputs += try model.evaluate(x, with: self)
    }

    func outputs<Value: TreeEnsembleValue>(_ rows: TreeRows<Value>, parameters: TreeEnsembleParameters<Value>) throws -> [Tensor] {
        let targets = model.targetCount, trees = Value(model.treeCount), bases = parameters.bases
        var results = [Value](repeating: 0, count: rows.count * targets)
        model.forEachRow(of: rows, parameters: parameters, aggregate: aggregate) { row, scores in
            let first = row * targets
            if targets == 1 {
                let origin = bases.first ?? 0, score = scores.values[0]
                let total = switch aggregate {
                case .sum: score + origin
                case .average: score / trees + origin
                case .min, .max: scores.scored[0] ? score + origin : origin
                }
                results[first] = transform == .probit ? Value(ScoreTransform.probit(Float(total))) : total
                return
            }
            for target in 0..<targets where scores.scored[target] {
                let base = bases.isEmpty ? 0 : bases[target], score = scores.values[target]
                results[first + target] = aggregate == .average ? score / trees + base : score + base
            }
            transform.apply(to: &results[first..<first + targets])
        }
        let shape = [rows.count, targets]
        if isTreeEnsemble || Value.self == Float.self { return [Value.tensor(shape: shape, values: results)] }
        return [Tensor(shape: shape, floats: results.map(Float.init))]
    }
}

extension TreeEnsembleRegressor: ShapeRule {
    /// Y is [N, targets] for X [N, F], and [1, targets] for X [F].
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, (1...2).contains(x.count) else { return [] }
        return [[x.count == 1 ? 1 : x[0], model.targetCount]]
    }
}
