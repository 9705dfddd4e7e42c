import Foundation

/// The kernel of the ai.onnx.ml SVM operators, with its parameters [gamma, coef0, degree].
struct SupportVectorKernel: Sendable {
    enum Kind: String, CaseIterable, Sendable { case linear = "LINEAR", polynomial = "POLY", radialBasis = "RBF", sigmoid = "SIGMOID" }

    let kind: Kind
    let gamma: Float
    let coef0: Float
    let degree: Float

    init(_ context: OperatorContext) throws {
        kind = try context.attributes.choice("kernel_type", default: .linear)
        let parameters = try context.attributes.floats("kernel_params") ?? []
        guard parameters.isEmpty || parameters.count == 3 else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "kernel_params",
                                                  reason: "must be [gamma, coef0, degree], got \(parameters.count) values")
        }
        (gamma, coef0, degree) = parameters.isEmpty ? (0, 0, 0) : (parameters[0], parameters[1], parameters[2])
    }

    /// K(x, v) for each row of `x` and each of the `vectors` (row-major, `x.features` each): a linear
    /// kernel adds `linearOffset` (onnxruntime's rho in the liblinear form), the others use coef0.
    func values(_ x: FeatureRows, _ vectors: [Float], linearOffset: Float = 0, as kind: Kind? = nil) -> [Float] {
        let kind = kind ?? self.kind, count = vectors.count / max(x.features, 1)
        var result = [Float](repeating: 0, count: x.rows * count)
        for row in 0..<x.rows {
            let input = x.values[(row * x.features)..<((row + 1) * x.features)]
            for vector in 0..<count {
                let support = vectors[(vector * x.features)..<((vector + 1) * x.features)]
                var sum: Float = 0
                if kind == .radialBasis {
                    for (a, b) in zip(input, support) { sum += (a - b) * (a - b) }
                    result[row * count + vector] = exp(-gamma * sum)
                    continue
                }
                for (a, b) in zip(input, support) { sum += a * b }
                result[row * count + vector] = switch kind {
                case .linear: sum + linearOffset
                case .polynomial: pow(gamma * sum + coef0, degree)
                case .sigmoid: tanh(gamma * sum + coef0)
                case .radialBasis: sum
                }
            }
        }
        return result
    }
}

/// ai.onnx.ml SVMClassifier, as onnxruntime computes it: one-vs-one votes over the support vectors
/// (libsvm's layout), with Platt-scaled pairwise probabilities coupled into class probabilities
/// when prob_a/prob_b are given; without support vectors, liblinear's one score per class.
struct SVMClassifier: Operator, ShapeRule {
    let labels: ClassLabels
    let kernel: SupportVectorKernel
    let vectorsPerClass: [Int]
    let supportVectors: [Float]
    let coefficients: [Float]
    let rho: [Float]
    let probabilityA: [Float]
    let probabilityB: [Float]
    let transform: ScoreTransform

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes, node = context.node.name
        labels = try ClassLabels(context)
        kernel = try SupportVectorKernel(context)
        vectorsPerClass = try attributes.ints("vectors_per_class") ?? []
        supportVectors = try attributes.floats("support_vectors") ?? []
        coefficients = try attributes.floats("coefficients") ?? []
        rho = try attributes.floats("rho") ?? []
        probabilityA = try attributes.floats("prob_a") ?? []
        probabilityB = try attributes.floats("prob_b") ?? []
        transform = try attributes.choice("post_transform", default: .none)
        let classes = labels.count, pairs = classes * (classes - 1) / 2, vectors = vectorsPerClass.reduce(0, +)
        func refuse(_ attribute: String, _ reason: String) -> InferenceError {
            InferenceError.invalidAttribute(node: node, attribute: attribute, reason: reason)
        }
        guard classes > 0 else { throw refuse("classlabels_ints", "no class labels") }
        guard probabilityA.count == probabilityB.count, probabilityA.isEmpty || probabilityA.count >= pairs else {
            throw refuse("prob_a", "prob_a (\(probabilityA.count)) and prob_b (\(probabilityB.count)) need one value per pair of classes (\(pairs))")
        }
        if vectors > 0 {
            guard vectorsPerClass.count == classes, vectorsPerClass.allSatisfy({ $0 >= 0 }) else {
                throw refuse("vectors_per_class", "needs one count per class (\(classes)), got \(vectorsPerClass)")
            }
            guard supportVectors.count % vectors == 0 else {
                throw refuse("support_vectors", "\(supportVectors.count) values do not split into \(vectors) vectors")
            }
            guard coefficients.count >= (classes - 1) * vectors else {
                throw refuse("coefficients", "needs \(classes - 1) x \(vectors) values, got \(coefficients.count)")
            }
            guard rho.count >= pairs else { throw refuse("rho", "needs one value per pair of classes (\(pairs)), got \(rho.count)") }
        } else {
            guard !coefficients.isEmpty, coefficients.count % classes == 0 else {
                throw refuse("coefficients", "\(coefficients.count) values do not split into \(classes) classes")
            }
            guard !rho.isEmpty else { throw refuse("rho", "needs a value") }
        }
    }

    private var usesSupportVectors: Bool { vectorsPerClass.reduce(0, +) > 0 }
    private var hasProbabilities: Bool { !probabilityA.isEmpty }
    private var pairCount: Int { labels.count * (labels.count - 1) / 2 }

    /// Score columns: one per class, or per pair of classes (two for two classes) without probabilities.
    private var scoreColumns: Int {
        guard usesSupportVectors && !hasProbabilities else { return labels.count }
        return labels.count > 2 ? pairCount : 2
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try FeatureRows(try inputs.required(0))
        let classes = labels.count
        let featureCount = usesSupportVectors ? supportVectors.count / vectorsPerClass.reduce(0, +) : coefficients.count / classes
        guard x.features == featureCount else { throw InferenceError.invalidOperand("X has \(x.features) features; the model takes \(featureCount)") }
        var scores = [Float](), best = [Int](), topScores = [Float]()
        if usesSupportVectors {
            let kernels = kernel.values(x, supportVectors)
            let vectorCount = vectorsPerClass.reduce(0, +)
            for row in 0..<x.rows {
                let (pairScores, votes) = oneVersusOne(Array(kernels[(row * vectorCount)..<((row + 1) * vectorCount)]))
                best.append(votes.indices.reduce(0) { votes[$1] > votes[$0] ? $1 : $0 })
                topScores.append(0)
                scores += hasProbabilities ? coupledProbabilities(pairScores) : pairScores
            }
        } else {
            scores = kernel.values(x, coefficients, linearOffset: rho[0], as: .linear)
            for row in 0..<x.rows {
                let rowScores = scores[(row * classes)..<((row + 1) * classes)]
                let top = rowScores.indices.reduce(rowScores.startIndex) { rowScores[$1] > rowScores[$0] ? $1 : $0 }
                best.append(top - row * classes)
                topScores.append(rowScores[top])
            }
        }
        outputs.append(labels.tensor(shape: [x.rows], positions: zip(best, topScores).map { label(best: $0, topScore: $1) }))
        outputs.append(Tensor(shape: [x.rows, scoreColumns], floats: transformed(scores)))
    }

    /// The one-vs-one scores of one row (pair (i, j) in order i < j) and each class's votes.
    private func oneVersusOne(_ kernels: [Float]) -> (scores: [Float], votes: [Int]) {
        let classes = labels.count, vectorCount = kernels.count
        let starts = vectorsPerClass.indices.map { vectorsPerClass[..<$0].reduce(0, +) }
        var scores: [Float] = [], votes = [Int](repeating: 0, count: classes)
        for i in 0..<(classes - 1) {
            for j in (i + 1)..<classes {
                var sum: Double = 0
                for m in 0..<vectorsPerClass[i] { sum += Double(coefficients[(j - 1) * vectorCount + starts[i] + m] * kernels[starts[i] + m]) }
                for m in 0..<vectorsPerClass[j] { sum += Double(coefficients[i * vectorCount + starts[j] + m] * kernels[starts[j] + m]) }
                sum += Double(rho[scores.count])
                scores.append(Float(sum))
                votes[sum > 0 ? i : j] += 1
            }
        }
        return (scores, votes)
    }

    /// Pairwise Platt probabilities, clipped to [1e-7, 1 - 1e-7], coupled into one per class
    /// (Wu, Lin and Weng's second method, as libsvm and onnxruntime iterate it).
    private func coupledProbabilities(_ pairScores: [Float]) -> [Float] {
        let classes = labels.count
        var pairwise = [Float](repeating: 0, count: classes * classes)
        var index = 0
        for i in 0..<(classes - 1) {
            for j in (i + 1)..<classes {
                let probability = min(max(1 - ScoreTransform.logistic(pairScores[index] * probabilityA[index] + probabilityB[index]), 1e-7), 1 - 1e-7)
                pairwise[i * classes + j] = probability
                pairwise[j * classes + i] = 1 - probability
                index += 1
            }
        }
        return Self.multiclassProbabilities(pairwise, classes: classes)
    }

    static func multiclassProbabilities(_ r: [Float], classes k: Int) -> [Float] {
        var q = [Float](repeating: 0, count: k * k), qp = [Float](repeating: 0, count: k)
        var p = [Float](repeating: 1 / Float(k), count: k)
        for i in 0..<k {
            for j in 0..<i {
                q[i * k + i] += r[j * k + i] * r[j * k + i]
                q[i * k + j] = q[j * k + i]
            }
            for j in (i + 1)..<k {
                q[i * k + i] += r[j * k + i] * r[j * k + i]
                q[i * k + j] = -r[j * k + i] * r[i * k + j]
            }
        }
        let tolerance = 0.005 / Float(k)
        for _ in 0..<100 {
            var pqp: Float = 0
            for i in 0..<k {
                qp[i] = (0..<k).reduce(0) { $0 + q[i * k + $1] * p[$1] }
                pqp += p[i] * qp[i]
            }
            if (0..<k).map({ abs(qp[$0] - pqp) }).max() ?? 0 < tolerance { break }
            for i in 0..<k {
                let step = (-qp[i] + pqp) / q[i * k + i]
                p[i] += step
                pqp = (pqp + step * (step * q[i * k + i] + 2 * qp[i])) / (1 + step) / (1 + step)
                for j in 0..<k {
                    qp[j] = (qp[j] + step * q[i * k + j]) / (1 + step)
                    p[j] /= 1 + step
                }
            }
        }
        return p
    }

    /// The label position: the most voted (or best scoring) class; for two classes without
    /// probabilities, onnxruntime's rule on the top score and the coefficients' signs.
    private func label(best: Int, topScore: Float) -> Int {
        guard labels.count == 2, !hasProbabilities else { return best }
        let positiveWeights = coefficients.allSatisfy { $0 >= 0 }
        if (positiveWeights && topScore >= 0.5) || (topScore > 0 && !positiveWeights) { return 1 }
        return best
    }

    /// The post_transform over each row; one pairwise score of two classes becomes two columns:
    /// [-s, s] without a transform, [1 - s, s] with one (PROBIT alone transforms it).
    private func transformed(_ scores: [Float]) -> [Float] {
        var scores = scores
        guard usesSupportVectors && !hasProbabilities && labels.count <= 2 else {
            transform.apply(to: &scores, columns: scoreColumns)
            return scores
        }
        if transform == .probit { return scores.flatMap { [ScoreTransform.probit($0), 0] } }
        return scores.flatMap { transform == .none ? [-$0, $0] : [1 - $0, $0] }
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        let rows = try StaticShapes.rows(of: x)
        return [[rows], [rows, scoreColumns]]
    }
}

/// ai.onnx.ml SVMRegressor: the coefficients times the kernel values plus rho, or with no support
/// vectors the linear score; `one_class` gives the sign as +-1.
struct SVMRegressor: SingleOutputOperator, ShapeRule {
    let kernel: SupportVectorKernel
    let supportVectors: [Float]
    let coefficients: [Float]
    let rho: Float
    let oneClass: Bool

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        kernel = try SupportVectorKernel(context)
        let vectorCount = try attributes.int("n_supports", default: 0)
        supportVectors = try attributes.floats("support_vectors") ?? []
        coefficients = try attributes.floats("coefficients") ?? []
        guard let rho = try attributes.floats("rho")?.first else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "rho", reason: "needs a value")
        }
        self.rho = rho
        oneClass = try attributes.int("one_class", default: 0) != 0
        guard !coefficients.isEmpty, vectorCount == 0 || (coefficients.count == vectorCount && supportVectors.count % vectorCount == 0) else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "coefficients",
                                                  reason: "\(coefficients.count) coefficients and \(supportVectors.count) support vector values do not fit \(vectorCount) support vectors")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try FeatureRows(try inputs.required(0))
        var values: [Float]
        if supportVectors.isEmpty {
            guard x.features == coefficients.count else { throw InferenceError.invalidOperand("X has \(x.features) features; the model takes \(coefficients.count)") }
            values = kernel.values(x, coefficients, linearOffset: rho, as: .linear)
        } else {
            guard x.features * coefficients.count == supportVectors.count else {
                throw InferenceError.invalidOperand("X has \(x.features) features; the support vectors have \(supportVectors.count / coefficients.count)")
            }
            let kernels = kernel.values(x, supportVectors)
            values = (0..<x.rows).map { row in
                zip(kernels[(row * coefficients.count)...], coefficients).reduce(rho) { $0 + $1.0 * $1.1 }
            }
        }
        if oneClass { values = values.map { $0 > 0 ? 1 : -1 } }
        return Tensor(shape: [x.rows, 1], floats: values)
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        return [[try StaticShapes.rows(of: x), 1]]
    }
}
