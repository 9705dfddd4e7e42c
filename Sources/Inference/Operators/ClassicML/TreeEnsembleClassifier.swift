/// ai.onnx.ml TreeEnsembleClassifier (ml opsets 1 and 3): Y, the label of each row, and Z, its score
/// per class (summed leaf weights plus base values, then post_transform), finished the way
/// onnxruntime finishes them, including its rules for two classes that ONNX leaves open.
struct TreeEnsembleClassifier: Operator, TreeEnsembleKernel {
    /// The label a row gets: a class's label, or (onnxruntime, two classes that are not the binary
    /// case, or one class) the literal 0 or 1, which string labels read as a position.
    private enum Choice {
        case label(Int)
        case literal(Int)
    }

    /// How onnxruntime fills a binary row's two scores from the one it has (its add_second_class).
    private enum SecondScore {
        /// All weights >= 0: [1 - s, s].
        case complement
        /// Some weight < 0: [-s, s], or [logistic(-s), logistic(s)] under LOGISTIC.
        case negation
    }

    let model: TreeEnsembleModel
    let labels: ClassLabels
    let transform: ScoreTransform
    /// onnxruntime's binary case: two labels, and weights for one class id only.
    let isBinary: Bool
    let weightsAreNonNegative: Bool

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        let description = TreeEnsembleAttributes(weightPrefix: "class", targetIdsName: "class_ids", attributes: attributes)
        switch (try attributes.ints("classlabels_int64s") ?? [], try attributes.strings("classlabels_strings") ?? []) {
        case (let integers, []) where !integers.isEmpty: labels = .integers(integers.map(Int64.init))
        case ([], let strings) where !strings.isEmpty: labels = .strings(strings)
        default: throw description.invalid("classlabels_int64s", "exactly one of classlabels_int64s and classlabels_strings must list the labels")
        }
        let classes = labels.count
        let bases = try description.bases(allowed: { $0 == 0 || $0 == classes || (classes == 2 && $0 == 1) },
                                          expected: classes == 2 ? "none, 1 or 2" : "none or \(classes) (one per class)")
        model = try description.layout(targetCount: classes).model(targetCount: classes, bases: bases)
        transform = try attributes.choice("post_transform", default: .none)
        isBinary = try classes == 2 && Set(attributes.ints("class_ids") ?? []).count == 1
        weightsAreNonNegative = try description.leafWeightValues().allSatisfy { !($0 < 0) }
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        outputs += try model.evaluate(inputs.required(0), with: self)
    }

    func outputs<Value: TreeEnsembleValue>(_ rows: TreeRows<Value>, parameters: TreeEnsembleParameters<Value>) throws -> [Tensor] {
        let classes = labels.count
        var choices: [Choice] = [], scores = [Value](repeating: 0, count: rows.count * classes)
        choices.reserveCapacity(rows.count)
        try model.forEachRow(of: rows, parameters: parameters, aggregate: .sum) { row, rowScores in
            let first = row * classes
            switch classes {
            case 1: choices.append(single(rowScores, bases: parameters.bases, into: &scores[first]))
            case 2: choices.append(binary(rowScores, bases: parameters.bases, into: &scores[first..<first + 2]))
            default: choices.append(try multiclass(rowScores, bases: parameters.bases, into: &scores[first..<first + classes], row: row))
            }
        }
        let zShape = [rows.count, classes]
        let z = Value.self == Float.self ? Value.tensor(shape: zShape, values: scores) : Tensor(shape: zShape, floats: scores.map(Float.init))
        return [try labelTensor(choices), z]
    }

    /// Three or more classes: base values counted as scores, the label of the highest score.
    private func multiclass<Value: TreeEnsembleValue>(_ rowScores: TreeScores<Value>, bases: [Value], into scores: inout ArraySlice<Value>,
                                                     row: Int) throws -> Choice {
        var best: Int?
        for (index, position) in scores.indices.enumerated() {
            let scored = rowScores.scored[index] || index < bases.count
            guard scored else { continue }
            scores[position] = rowScores.values[index] + (index < bases.count ? bases[index] : 0)
            if best.map({ scores[position] > scores[scores.startIndex + $0] }) ?? true { best = index }
        }
        guard let best else { throw InferenceError.invalidOperand("no tree gives row \(row) a score for any class") }
        transform.apply(to: &scores)
        return .label(best)
    }

    /// One class (onnxruntime's single-score path): the score plus the base value; the label is the
    /// literal 1 when the score is positive, else 0.
    private func single<Value: TreeEnsembleValue>(_ rowScores: TreeScores<Value>, bases: [Value], into score: inout Value) -> Choice {
        let total = rowScores.values[0] + (bases.first ?? 0)
        score = transform == .probit ? Value(ScoreTransform.probit(Float(total))) : total
        return .literal(total > 0 ? 1 : 0)
    }

    /// Two classes, as onnxruntime's TreeAggregatorClassifier finishes them. A class no leaf scored
    /// is written 0. With two base values and a score for class 1, class 1 becomes base[1] + the
    /// score of class 0, and class 0 its negation. When only class 0 has a score, the second score is
    /// made from it (complement or negation, see `SecondScore`), except under PROBIT or when neither
    /// applies, where onnxruntime leaves the second column unwritten: NaN here.
    private func binary<Value: TreeEnsembleValue>(_ rowScores: TreeScores<Value>, bases: [Value],
                                                 into scores: inout ArraySlice<Value>) -> Choice {
        var (negative, positive) = (rowScores.values[0], rowScores.values[1])
        let (negativeScored, positiveScored) = (rowScores.scored[0], rowScores.scored[1])
        var second: SecondScore?
        switch bases.count {
        case 2 where positiveScored:
            positive = bases[1] + negative
            negative = -positive
        case 2:
            positive += bases[1]
            negative += bases[0]
        case 1:
            negative += bases[0]
        default:
            second = .negation
        }
        let evidence = positiveScored ? positive : (negativeScored ? negative : 0)
        let choice: Choice
        if !isBinary {
            choice = .literal(evidence > 0 ? 1 : 0)
        } else if weightsAreNonNegative {
            second = .complement
            choice = .label(evidence > 0.5 ? 1 : 0)
        } else {
            second = .negation
            choice = .label(evidence > 0 ? 1 : 0)
        }

        let first = scores.startIndex, score = negativeScored ? negative : 0
        if positiveScored || bases.count == 2 {
            scores[first] = score
            scores[first + 1] = positiveScored ? positive : 0
            transform.apply(to: &scores)
        } else if transform == .probit {
            (scores[first], scores[first + 1]) = (Value(ScoreTransform.probit(Float(score))), .nan)
        } else {
            switch second {
            case .complement?: (scores[first], scores[first + 1]) = (1 - score, score)
            case .negation? where transform == .logistic:
                (scores[first], scores[first + 1]) = (Value(ScoreTransform.logistic(Float(-score))), Value(ScoreTransform.logistic(Float(score))))
            case .negation?: (scores[first], scores[first + 1]) = (-score, score)
            case nil: (scores[first], scores[first + 1]) = (score, .nan)
            }
        }
        return choice
    }

    private func labelTensor(_ choices: [Choice]) throws -> Tensor {
        switch labels {
        case .integers(let labels):
            return Tensor(shape: [choices.count], int64s: choices.map { choice in
                switch choice {
                case .label(let index): labels[index]
                case .literal(let value): Int64(value)
                }
            })
        case .strings(let labels):
            return Tensor(shape: [choices.count], strings: try choices.map { choice in
                let index = switch choice {
                case .label(let index), .literal(let index): index
                }
                guard index < labels.count else {
                    throw InferenceError.invalidOperand("onnxruntime's label \(index) for a one-class classifier has no string label")
                }
                return labels[index]
            })
        }
    }
}

extension TreeEnsembleClassifier: ShapeRule {
    /// Y is [N] and Z [N, classes] for X [N, F]; N is 1 for X [F].
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, (1...2).contains(x.count) else { return [] }
        let rows = x.count == 1 ? 1 : x[0]
        return [[rows], [rows, labels.count]]
    }
}
