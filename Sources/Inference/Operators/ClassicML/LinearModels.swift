/// ai.onnx.ml LinearClassifier: scores = X W' + intercepts, one column per class, then the
/// post_transform; the label is the best class, or for one score the sign of the raw score.
/// onnxruntime's binary rule: one score and two labels give two columns [1 - s, s].
struct LinearClassifier: Operator, ShapeRule {
    let labels: ClassLabels
    let coefficients: [Float]
    let intercepts: [Float]
    let transform: ScoreTransform

    init(_ context: OperatorContext) throws {
        labels = try ClassLabels(context)
        coefficients = try context.attributes.floats("coefficients") ?? []
        intercepts = try context.attributes.floats("intercepts") ?? []
        transform = try context.attributes.choice("post_transform", default: .none)
        guard !intercepts.isEmpty, coefficients.count % intercepts.count == 0 else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "coefficients",
                                                  reason: "must hold one row per intercept (\(intercepts.count)), got \(coefficients.count) values")
        }
    }

    private var classCount: Int { intercepts.count }
    private var addsSecondClass: Bool { classCount == 1 && labels.count == 2 }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try FeatureRows(try inputs.required(0))
        guard x.features * classCount == coefficients.count else {
            throw InferenceError.invalidOperand("X has \(x.features) features; the coefficients hold \(coefficients.count / classCount) per class")
        }
        var scores = LinearRegressor.affine(x, coefficients, intercepts)
        if classCount == 1 {
            outputs.append(labels.binary(scores.map { $0 > 0 }))
        } else {
            guard labels.count == classCount else {
                throw InferenceError.invalidOperand("\(labels.count) class labels for \(classCount) classes")
            }
            let best = (0..<x.rows).map { row in
                let start = row * classCount
                return (0..<classCount).reduce(0) { scores[start + $1] > scores[start + $0] ? $1 : $0 }
            }
            outputs.append(labels.tensor(shape: [x.rows], positions: best))
        }
        if addsSecondClass && transform != .probit {
            scores = scores.flatMap { [1 - $0, $0] }
        } else {
            transform.apply(to: &scores, columns: classCount)
        }
        outputs.append(Tensor(shape: [x.rows, addsSecondClass ? 2 : classCount], floats: scores))
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        let rows = try StaticShapes.rows(of: x)
        return [[rows], [rows, addsSecondClass ? 2 : classCount]]
    }
}

/// ai.onnx.ml LinearRegressor: `targets` outputs per row, X W' + intercepts, then the post_transform.
struct LinearRegressor: SingleOutputOperator, ShapeRule {
    let targets: Int
    let coefficients: [Float]
    let intercepts: [Float]
    let transform: ScoreTransform

    init(_ context: OperatorContext) throws {
        targets = try context.attributes.int("targets", default: 1)
        coefficients = try context.attributes.floats("coefficients") ?? []
        let intercepts = try context.attributes.floats("intercepts") ?? []
        transform = try context.attributes.choice("post_transform", default: .none)
        guard targets > 0, coefficients.count % targets == 0, intercepts.isEmpty || intercepts.count == targets else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "coefficients",
                                                  reason: "\(coefficients.count) coefficients and \(intercepts.count) intercepts do not fit \(targets) target(s)")
        }
        self.intercepts = intercepts.isEmpty ? Array(repeating: 0, count: targets) : intercepts
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try FeatureRows(try inputs.required(0))
        guard x.features * targets == coefficients.count else {
            throw InferenceError.invalidOperand("X has \(x.features) features; the coefficients hold \(coefficients.count / targets) per target")
        }
        var scores = Self.affine(x, coefficients, intercepts)
        transform.apply(to: &scores, columns: targets)
        return Tensor(shape: [x.rows, targets], floats: scores)
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        return [[try StaticShapes.rows(of: x), targets]]
    }

    /// X W' + intercepts: W holds one row of `x.features` weights per output column.
    static func affine(_ x: FeatureRows, _ weights: [Float], _ intercepts: [Float]) -> [Float] {
        let columns = intercepts.count
        var result = [Float](repeating: 0, count: x.rows * columns)
        for row in 0..<x.rows {
            for column in 0..<columns {
                var sum = intercepts[column]
                for feature in 0..<x.features { sum += x.values[row * x.features + feature] * weights[column * x.features + feature] }
                result[row * columns + column] = sum
            }
        }
        return result
    }
}
