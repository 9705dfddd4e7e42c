import Foundation
import NIOConcurrencyHelpers

/// A seeded pseudo-random stream (SplitMix64): a node with a `seed` draws the same values on every
/// run and machine; without one it is seeded from the system's generator at load.
final class RandomStream: Sendable {
    private let state: NIOLockedValueBox<UInt64>

    init(seed: Float?) {
        state = NIOLockedValueBox(seed.map { UInt64(truncatingIfNeeded: Int64($0.rounded())) } ?? UInt64.random(in: .min ... .max))
    }

    /// `count` uniform values in [0, 1).
    func uniforms(_ count: Int) -> [Double] {
        state.withLockedValue { state in
            (0..<count).map { _ in
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
            }
        }
    }
}

/// RandomUniform, RandomNormal and their Like forms: a tensor of the attribute `shape` (or the
/// input's shape) and `dtype` (or the input's type, else float32), uniform in [low, high) or normal
/// with `mean` and `scale` (Box-Muller).
struct RandomTensor: SingleOutputOperator {
    var isDeterministic: Bool { false }

    let normal: Bool
    let takesShapeOfInput: Bool
    let shape: [Int]?
    let type: ElementType?
    let parameters: (Double, Double)
    let stream: RandomStream

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        normal = context.node.opType.hasPrefix("RandomNormal")
        takesShapeOfInput = context.node.opType.hasSuffix("Like")
        shape = try attributes.ints("shape")
        if !takesShapeOfInput, shape == nil {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "shape", reason: "is required")
        }
        type = try attributes.int("dtype").map { try ElementType(onnxAttribute: $0, node: context.node.name, attribute: "dtype") }
        parameters = normal
            ? (Double(try attributes.float("mean", default: 0)), Double(try attributes.float("scale", default: 1)))
            : (Double(try attributes.float("low", default: 0)), Double(try attributes.float("high", default: 1)))
        stream = RandomStream(seed: try attributes.float("seed"))
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let like = takesShapeOfInput ? try inputs.required(0) : nil
        let shape = like?.shape ?? self.shape ?? []
        let count = shape.reduce(1, *)
        let values: [Double]
        if normal {
            let uniforms = stream.uniforms(2 * count)
            values = (0..<count).map { index in
                let radius = (-2 * log(1 - uniforms[2 * index])).squareRoot()
                return parameters.0 + parameters.1 * radius * cos(2 * .pi * uniforms[2 * index + 1])
            }
        } else {
            values = stream.uniforms(count).map { parameters.0 + (parameters.1 - parameters.0) * $0 }
        }
        return try Tensor(shape: shape, storage: TensorStorage.float64(values).converted(to: type ?? like?.elementType ?? .float32))
    }
}

/// Bernoulli: 1 with each input element's probability, else 0, in `dtype` (the input's type by default).
struct Bernoulli: SingleOutputOperator {
    var isDeterministic: Bool { false }

    let type: ElementType?
    let stream: RandomStream

    init(_ context: OperatorContext) throws {
        type = try context.attributes.int("dtype").map { try ElementType(onnxAttribute: $0, node: context.node.name, attribute: "dtype") }
        stream = RandomStream(seed: try context.attributes.float("seed"))
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let probabilities = try inputs.required(0)
        let draws = zip(probabilities.storage.doubles, stream.uniforms(probabilities.count)).map { $1 < $0 ? 1.0 : 0 }
        return try Tensor(shape: probabilities.shape, storage: TensorStorage.float64(draws).converted(to: type ?? probabilities.elementType))
    }
}

/// Multinomial: `sample_size` class indices per batch row, drawn from the row's unnormalised log
/// probabilities, as int32 (default) or int64.
struct Multinomial: SingleOutputOperator {
    var isDeterministic: Bool { false }

    let samples: Int
    let type: ElementType
    let stream: RandomStream

    init(_ context: OperatorContext) throws {
        samples = try context.attributes.int("sample_size", default: 1)
        type = try ElementType(onnxAttribute: context.attributes.int("dtype", default: 6), node: context.node.name, attribute: "dtype")
        guard type == .int32 || type == .int64 else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "dtype", reason: "must be int32 or int64")
        }
        stream = RandomStream(seed: try context.attributes.float("seed"))
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count == 2, x.shape[1] > 0 else { throw InferenceError.invalidOperand("input must be [batch, classes], got \(x.shape)") }
        let (batch, classes) = (x.shape[0], x.shape[1]), logits = x.storage.doubles
        var indices: [Int64] = []
        for row in 0..<batch {
            let slice = logits[(row * classes)..<((row + 1) * classes)], largest = slice.max()!
            var cumulative: [Double] = []
            for logit in slice { cumulative.append((cumulative.last ?? 0) + exp(logit - largest)) }
            for draw in stream.uniforms(samples) {
                let target = draw * cumulative.last!
                indices.append(Int64(cumulative.firstIndex { target < $0 } ?? classes - 1))
            }
        }
        return try Tensor(shape: [batch, samples], int64s: indices).converted(to: type)
    }
}
