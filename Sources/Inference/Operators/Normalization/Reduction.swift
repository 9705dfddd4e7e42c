import Foundation

/// ReduceMean/Sum/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp over the listed axes (all when none are
/// given, unless noop_with_empty_axes). Axes are an attribute before opset 18 (ReduceSum: 13),
/// an optional input from then on.
struct Reduction: SingleOutputOperator {
    enum Kind: String, CaseIterable {
        case mean = "ReduceMean", sum = "ReduceSum", max = "ReduceMax", min = "ReduceMin", product = "ReduceProd"
        case sumSquare = "ReduceSumSquare", l1 = "ReduceL1", l2 = "ReduceL2", logSum = "ReduceLogSum", logSumExp = "ReduceLogSumExp"

        var axesInputOpset: Int { self == .sum ? 13 : 18 }

        func reduce(_ values: ArraySlice<Float>) -> Float {
            switch self {
            case .mean: values.reduce(0, +) / Float(values.count)
            case .sum: values.reduce(0, +)
            case .max: values.max() ?? -.infinity
            case .min: values.min() ?? .infinity
            case .product: values.reduce(1, *)
            case .sumSquare: values.reduce(0) { $0 + $1 * $1 }
            case .l1: values.reduce(0) { $0 + abs($1) }
            case .l2: values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            case .logSum: log(values.reduce(0, +))
            case .logSumExp: Self.logSumExp(values)
            }
        }

        /// log(sum(exp(v))) shifted by the largest value so exp cannot overflow.
        private static func logSumExp(_ values: ArraySlice<Float>) -> Float {
            guard let largest = values.max(), largest.isFinite else { return values.max() ?? -.infinity }
            return largest + log(values.reduce(0) { $0 + exp($1 - largest) })
        }
    }

    let kind: Kind
    let keepsDimensions: Bool
    let skipsWithoutAxes: Bool
    let attributeAxes: [Int]??
    let axesKnownAtLoad: [Int]??

    init(_ context: OperatorContext, kind: Kind) throws {
        self.kind = kind
        keepsDimensions = try context.attributes.int("keepdims", default: 1) != 0
        skipsWithoutAxes = try context.attributes.int("noop_with_empty_axes", default: 0) != 0
        attributeAxes = try context.axesAttribute(inputFromOpset: kind.axesInputOpset)
        axesKnownAtLoad = try context.axesKnownAtLoad(inputFromOpset: kind.axesInputOpset)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let requested = (attributeAxes ?? inputs.integers(1)) ?? []
        if requested.isEmpty && skipsWithoutAxes { return x }
        let axes = requested.isEmpty ? Array(x.shape.indices) : try normalizedAxes(requested, rank: x.shape.count)
        let kept = x.shape.indices.filter { !axes.contains($0) }
        // Lay each output's inputs side by side: the kept axes outside, the reduced axes inside
        // (already so when the reduced axes are the last ones).
        let permutation = kept + axes
        let keptShape = kept.map { x.shape[$0] }, reducedCount = axes.map { x.shape[$0] }.reduce(1, *)
        let values = permutation == Array(x.shape.indices) ? x.floats
            : x.storage.strided(shape: permutation.map { x.shape[$0] }, sourceStrides: permutation.map { x.strides[$0] }, offset: 0).floats
        let results = (0..<keptShape.reduce(1, *)).map { output in
            kind.reduce(values[(output * reducedCount)..<((output + 1) * reducedCount)])
        }
        let shape = keepsDimensions ? x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] } : keptShape
        if x.elementType.isFloatingPoint {
            return Tensor(shape: shape, floats: results, as: x.elementType)
        }
        return try Tensor(shape: shape, floats: results).converted(to: x.elementType)
    }
}

extension Reduction: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, let requested = axesKnownAtLoad.map({ $0 ?? [] }) else { return [] }
        if requested.isEmpty && skipsWithoutAxes { return [x] }
        let axes = requested.isEmpty ? Array(x.indices) : try normalizedAxes(requested, rank: x.count)
        return [keepsDimensions ? x.indices.map { axes.contains($0) ? 1 : x[$0] } : x.indices.filter { !axes.contains($0) }.map { x[$0] }]
    }
}
