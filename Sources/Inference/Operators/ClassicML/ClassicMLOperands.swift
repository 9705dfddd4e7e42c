/// A classifier's labels, int64 or string, from `classlabels_ints` / `classlabels_strings`.
enum ClassLabels: Sendable {
    case integers([Int64])
    case strings([String])

    init(_ context: OperatorContext) throws {
        if let strings = try context.attributes.strings("classlabels_strings"), !strings.isEmpty {
            self = .strings(strings)
        } else {
            self = .integers((try context.attributes.ints("classlabels_ints") ?? []).map(Int64.init))
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
