import CQuantKernels
import Foundation

/// Softmax and LogSoftmax over one axis (opset 13+), or over the dimensions from `axis` on,
/// flattened (opset 1-12).
struct Softmax: SingleOutputOperator, ShapePreserving {
    let axis: Int
    let flattensTrailingDimensions: Bool
    let takesLogarithm: Bool

    init(_ context: OperatorContext, logarithm: Bool = false) throws {
        flattensTrailingDimensions = context.opset < 13
        axis = try context.attributes.int("axis", default: flattensTrailingDimensions ? 1 : -1)
        takesLogarithm = logarithm
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        var values = try x.floatOperand("input")
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        let length = flattensTrailingDimensions ? x.shape[axis...].reduce(1, *) : x.shape[axis]
        let inner = flattensTrailingDimensions ? 1 : x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape[..<axis].reduce(1, *)
        values.withUnsafeMutableBufferPointer { values in
            if inner == 1, !takesLogarithm {
                qf_softmax_rows_f32(values.baseAddress, outer, length)
                return
            }
            for block in 0..<outer {
                for offset in 0..<inner {
                    normalize(values.baseAddress! + block * length * inner + offset, count: length, stride: inner)
                }
            }
        }
        return Tensor(shape: x.shape, floats: values, as: x.elementType)
    }

    /// One softmax row in place: each exponential is computed once and kept.
    private func normalize(_ row: UnsafeMutablePointer<Float>, count: Int, stride: Int) {
        var largest = -Float.infinity
        for index in 0..<count { largest = max(largest, row[index * stride]) }
        var total: Float = 0
        for index in 0..<count {
            let shifted = row[index * stride] - largest
            // Masked positions (-10000 and below) underflow; expf's slow underflow path costs more than the test.
            let value = shifted < -104 ? 0 : exp(shifted)
            row[index * stride] = takesLogarithm ? shifted : value
            total += value
        }
        let logTotal = log(total)
        for index in 0..<count {
            if takesLogarithm { row[index * stride] -= logTotal } else { row[index * stride] /= total }
        }
    }
}
