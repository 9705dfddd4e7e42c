import Foundation

/// The `post_transform` of the ai.onnx.ml classifiers, regressors and tree ensembles, computed with
/// onnxruntime's formulas (the reference where ONNX's text is silent): in single precision whatever
/// the score type, PROBIT through onnxruntime's approximate inverse error function (not an exact
/// one), SOFTMAX_ZERO leaving scores within 1e-7 of zero out of the sum.
enum ScoreTransform: String, CaseIterable, Sendable {
    case none = "NONE"
    case softmax = "SOFTMAX"
    case logistic = "LOGISTIC"
    case softmaxZero = "SOFTMAX_ZERO"
    case probit = "PROBIT"

    /// TreeEnsemble (ml opset 5) numbers the transforms. onnxruntime reads 1 as LOGISTIC and 2 as
    /// SOFTMAX, the reverse of the ONNX text (1 SOFTMAX, 2 LOGISTIC); onnxruntime is the reference.
    init?(onnxruntimeCode code: Int) {
        switch code {
        case 0: self = .none
        case 1: self = .logistic
        case 2: self = .softmax
        case 3: self = .softmaxZero
        case 4: self = .probit
        default: return nil
        }
    }

    /// Transforms `scores`, rows of `columns` each, in place; on rows of one score only PROBIT applies.
    func apply(to scores: inout [Float], columns: Int) {
        guard columns > 0 else { return }
        if columns == 1 {
            if self == .probit { for index in scores.indices { scores[index] = Self.probit(scores[index]) } }
            return
        }
        for start in stride(from: 0, to: scores.count, by: columns) { apply(to: &scores[start..<(start + columns)]) }
    }

    /// Transforms a row of two or more scores in place.
    func apply<Score: BinaryFloatingPoint>(to scores: inout ArraySlice<Score>) {
        switch self {
        case .none: return
        case .probit: for index in scores.indices { scores[index] = Score(Self.probit(Float(scores[index]))) }
        case .logistic: for index in scores.indices { scores[index] = Score(Self.logistic(Float(scores[index]))) }
        case .softmax, .softmaxZero:
            let largest = scores.reduce(-Float.greatestFiniteMagnitude) { Swift.max($0, Float($1)) }
            let zeroScale = exp(-largest)
            var sum: Float = 0
            for index in scores.indices {
                let score = Float(scores[index])
                if self == .softmax || score > 1e-7 || score < -1e-7 {
                    let term = exp(score - largest)
                    scores[index] = Score(term)
                    sum += term
                } else {
                    scores[index] = Score(score * zeroScale)
                }
            }
            for index in scores.indices { scores[index] = Score(Float(scores[index]) / sum) }
        }
    }

    static func logistic(_ value: Float) -> Float {
        let magnitude = 1 / (1 + exp(-abs(value)))
        return value < 0 ? 1 - magnitude : magnitude
    }

    /// sqrt(2) * erfinv(2p - 1), erfinv by Winitzki's approximation (a = 0.147), as onnxruntime has it.
    static func probit(_ value: Float) -> Float {
        let x = 2 * value - 1
        let sign: Float = x < 0 ? -1 : 1
        let logarithm = log((1 - x) * (1 + x))
        let first = 2 / (Float.pi * 0.147) + 0.5 * logarithm
        let second = 1 / Float(0.147) * logarithm
        return Float(2).squareRoot() * sign * (-first + (first * first - second).squareRoot()).squareRoot()
    }
}
