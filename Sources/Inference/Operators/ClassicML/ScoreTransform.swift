import Foundation

/// The `post_transform` of the ai.onnx.ml classifiers and regressors, computed as onnxruntime
/// computes it (the reference where ONNX's text is silent): per row of scores, and on a row of
/// one score only PROBIT applies.
enum ScoreTransform: String, CaseIterable, Sendable {
    case none = "NONE", softmax = "SOFTMAX", logistic = "LOGISTIC", softmaxZero = "SOFTMAX_ZERO", probit = "PROBIT"

    /// Transforms `scores`, `rows` rows of `columns` each, in place.
    func apply(to scores: inout [Float], columns: Int) {
        guard columns > 0 else { return }
        if columns == 1 {
            if self == .probit { for index in scores.indices { scores[index] = Self.probit(scores[index]) } }
            return
        }
        for start in stride(from: 0, to: scores.count, by: columns) {
            let row = start..<(start + columns)
            switch self {
            case .none: break
            case .logistic: for index in row { scores[index] = Self.logistic(scores[index]) }
            case .probit: for index in row { scores[index] = Self.probit(scores[index]) }
            case .softmax: Self.softmax(&scores[row], keepingZeros: false)
            case .softmaxZero: Self.softmax(&scores[row], keepingZeros: true)
            }
        }
    }

    static func logistic(_ x: Float) -> Float {
        let v = 1 / (1 + exp(-abs(x)))
        return x < 0 ? 1 - v : v
    }

    /// sqrt(2) * erfinv(2x - 1), with onnxruntime's approximation of erfinv (Winitzki's, a = 0.147).
    static func probit(_ x: Float) -> Float {
        let y = 2 * x - 1
        let sign: Float = y < 0 ? -1 : 1
        let logarithm = log((1 - y) * (1 + y))
        let v = 2 / (3.14159 * 0.147) + 0.5 * logarithm
        return 1.41421356 * sign * (-v + (v * v - logarithm / 0.147).squareRoot()).squareRoot()
    }

    /// SOFTMAX_ZERO leaves a zero score (|x| <= 1e-7) out of the sum: it becomes exp(-max) times itself.
    private static func softmax(_ row: inout ArraySlice<Float>, keepingZeros: Bool) {
        let largest = row.max() ?? 0
        var sum: Float = 0
        for index in row.indices {
            if keepingZeros && abs(row[index]) <= 0.0000001 {
                row[index] *= exp(-largest)
            } else {
                row[index] = exp(row[index] - largest)
                sum += row[index]
            }
        }
        for index in row.indices { row[index] /= sum }
    }
}

/// A classifier's labels, int64 or string, from `classlabels_ints` / `classlabels_strings`.
enum ClassLabels: Sendable {
    case integers([Int64])
    case strings([String])

    init(_ context: OperatorContext, prefix: String = "classlabels") throws {
        if let strings = try context.attributes.strings("\(prefix)_strings"), !strings.isEmpty {
            self = .strings(strings)
        } else {
            self = .integers((try context.attributes.ints("\(prefix)_ints") ?? []).map(Int64.init))
        }
    }

    var count: Int {
        switch self {
        case .integers(let labels): labels.count
        case .strings(let labels): labels.count
        }
    }

    /// The labels at `positions`, as a tensor of `shape`.
    func tensor(shape: [Int], positions: [Int]) -> Tensor {
        switch self {
        case .integers(let labels): Tensor(shape: shape, int64s: positions.map { labels[$0] })
        case .strings(let labels): Tensor(shape: shape, strings: positions.map { labels[$0] })
        }
    }

    /// The binary decision of a one-score model: the second label when `positive`, else the first;
    /// without two labels, 1 and 0 ("1" and "0").
    func binary(_ positive: [Bool]) -> Tensor {
        switch self {
        case .integers(let labels):
            let (no, yes) = labels.count == 2 ? (labels[0], labels[1]) : (0, 1)
            return Tensor(shape: [positive.count], int64s: positive.map { $0 ? yes : no })
        case .strings(let labels):
            let (no, yes) = labels.count == 2 ? (labels[0], labels[1]) : ("0", "1")
            return Tensor(shape: [positive.count], strings: positive.map { $0 ? yes : no })
        }
    }
}

/// The rows of an ai.onnx.ml operator's input: [N, F], or [F] as one row; integer and double
/// inputs computed in FP32, as onnxruntime does.
struct FeatureRows {
    let values: [Float]
    let rows: Int
    let features: Int

    init(_ x: Tensor) throws {
        switch x.shape.count {
        case 1: (rows, features) = (1, x.shape[0])
        case 2: (rows, features) = (x.shape[0], x.shape[1])
        default: throw InferenceError.invalidOperand("X must be [N, F] or [F], got \(x.shape)")
        }
        values = try Self.numeric(x)
    }

    /// Any shape's elements in FP32, from the float, double, int64 or int32 the ai.onnx.ml operators take.
    static func numeric(_ x: Tensor) throws -> [Float] {
        guard x.elementType.isFloatingPoint || [.int64, .int32].contains(x.elementType) else {
            throw InferenceError.invalidOperand("X must be float, double, int64 or int32, got \(x.elementType.rawValue)")
        }
        return x.floats
    }
}

extension StaticShapes {
    /// The rows (N) of an ai.onnx.ml operator's [N, F] or [F] input.
    static func rows(of x: StaticShape) throws -> Int? {
        guard x.count == 1 || x.count == 2 else { throw InferenceError.invalidOperand("X must be [N, F] or [F], got \(describe(x))") }
        return x.count == 1 ? 1 : x[0]
    }
}
