import Foundation

/// NegativeLogLikelihoodLoss (opsets 12, 13, 22) and SoftmaxCrossEntropyLoss (opsets 12, 13): the loss
/// of log-probabilities [N, C, d1, ...] against integer targets [N, d1, ...], each -logp[target]
/// scaled by the target class's optional weight; targets equal to `ignore_index` contribute nothing.
/// `reduction` none keeps the per-element losses, sum adds them, mean divides the sum by the total
/// weight of the targets not ignored.
struct NegativeLogLikelihoodLoss: Operator {
    enum Reduction: String, CaseIterable {
        case none, sum, mean
    }

    let reduction: Reduction
    let ignoredTarget: Int64?
    /// SoftmaxCrossEntropyLoss: input 0 holds scores, turned into log-probabilities over axis 1 first
    /// (and output 1 returns them).
    let takesLogSoftmax: Bool

    init(_ context: OperatorContext) throws {
        reduction = try context.attributes.choice("reduction", default: Reduction.mean)
        ignoredTarget = try context.attributes.int("ignore_index").map(Int64.init)
        takesLogSoftmax = context.node.opType == "SoftmaxCrossEntropyLoss"
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0), target = try inputs.required(1)
        guard x.shape.count >= 2 else { throw InferenceError.invalidOperand("input must be [N, C, ...], got \(x.shape)") }
        let classes = x.shape[1]
        guard target.shape == [x.shape[0]] + x.shape[2...] else {
            throw InferenceError.invalidOperand("target shape \(target.shape) must be the input's \(x.shape) without the class axis")
        }
        guard !target.elementType.isFloatingPoint else { throw InferenceError.invalidOperand("target must be integers, got \(target.elementType.rawValue)") }
        let weights = try inputs.optional(2).map { weight in
            guard weight.shape == [classes] else { throw InferenceError.invalidOperand("weight must be [\(classes)], got \(weight.shape)") }
            return try weight.floatOperand("weight")
        }
        var logProbabilities = try x.floatOperand(takesLogSoftmax ? "scores" : "input")
        let inner = x.shape[2...].reduce(1, *)
        if takesLogSoftmax { Self.applyLogSoftmax(&logProbabilities, classes: classes, inner: inner) }
        var losses = [Float](repeating: 0, count: target.count)
        var totalWeight: Float = 0
        for (position, label) in target.int64s.enumerated() where label != ignoredTarget {
            guard (0..<Int64(classes)).contains(label) else {
                throw InferenceError.invalidOperand("target \(label) at \(position) is outside the \(classes) classes")
            }
            let weight = weights?[Int(label)] ?? 1
            let (sample, offset) = position.quotientAndRemainder(dividingBy: inner)
            losses[position] = -logProbabilities[(sample * classes + Int(label)) * inner + offset] * weight
            totalWeight += weight
        }
        switch reduction {
        case .none: outputs.append(Tensor(shape: target.shape, floats: losses, as: x.elementType))
        case .sum: outputs.append(Tensor(shape: [], floats: [losses.reduce(0, +)], as: x.elementType))
        case .mean: outputs.append(Tensor(shape: [], floats: [losses.reduce(0, +) / totalWeight], as: x.elementType))
        }
        if takesLogSoftmax { outputs.append(Tensor(shape: x.shape, floats: logProbabilities, as: x.elementType)) }
    }

    /// log softmax over the class axis of [N, classes, inner], in place.
    private static func applyLogSoftmax(_ values: inout [Float], classes: Int, inner: Int) {
        for sample in 0..<(values.count / max(classes * inner, 1)) {
            for offset in 0..<inner {
                let positions = (0..<classes).map { (sample * classes + $0) * inner + offset }
                let largest = positions.reduce(-Float.infinity) { max($0, values[$1]) }
                let logTotal = log(positions.reduce(0) { $0 + exp(values[$1] - largest) }) + largest
                for position in positions { values[position] -= logTotal }
            }
        }
    }
}
