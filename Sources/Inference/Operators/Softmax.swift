import Foundation

/// Softmax and LogSoftmax over one axis (opset 13+), or over the dimensions from `axis` on,
/// flattened (opset 1-12).
struct Softmax: Operator {
    let axis: Int
    let flattensTrailingDimensions: Bool
    let takesLogarithm: Bool

    init(_ context: OperatorContext, logarithm: Bool = false) throws {
        flattensTrailingDimensions = context.opset < 13
        axis = try context.attributes.int("axis", default: flattensTrailingDimensions ? 1 : -1)
        takesLogarithm = logarithm
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        var values = try x.floatOperand("input")
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let length = flattensTrailingDimensions ? x.shape[axis...].reduce(1, *) : x.shape[axis]
        let inner = flattensTrailingDimensions ? 1 : x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape[..<axis].reduce(1, *)
        for block in 0..<outer {
            for offset in 0..<inner {
                let indices = (0..<length).map { block * length * inner + $0 * inner + offset }
                let largest = indices.map { values[$0] }.max() ?? 0
                let total = indices.reduce(Float(0)) { $0 + exp(values[$1] - largest) }
                for index in indices {
                    values[index] = takesLogarithm ? values[index] - largest - log(total) : exp(values[index] - largest) / total
                }
            }
        }
        return [Tensor(shape: x.shape, floats: values, as: x.elementType)]
    }
}
