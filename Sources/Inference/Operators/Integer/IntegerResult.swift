import CQuantKernels

/// What an integer operator makes of its exact int32 accumulators: the accumulators themselves
/// (MatMulInteger, ConvInteger), floats (the fused MatMul/Conv of a QDQ graph), or a requantized
/// int8/uint8 tensor (QLinearMatMul, QLinearConv).
enum IntegerResult {
    case int32
    /// y = acc x scales[column] (+ bias[column]).
    case float(scales: [Float], bias: [Float]?)
    /// y = saturate(round_half_even((acc + bias[column]) x multipliers[column]) + zero).
    case requantized(multipliers: [Float], bias: [Int32]?, zero: Int32, type: ElementType)

    /// Converts the accumulators of `parts` equal parts (`rows` x `columns` each, row-major), which
    /// `accumulators(part)` makes one at a time and which are recycled once converted, into one
    /// tensor of `shape`, part after part. With `transposed`, each part is laid out columns x rows
    /// (one image of a convolution: filters x positions).
    func tensor(parts: Int = 1, rows: Int, columns: Int, shape: [Int], transposed: Bool = false,
                accumulators: (Int) throws -> [Int32]) rethrows -> Tensor {
        switch self {
        case .int32:
            return Tensor(shape: shape, int32s: try Self.arranged(parts, rows, columns, transposed, accumulators) { value, _ in value })
        case .float(let scales, let bias):
            return Tensor(shape: shape, floats: try Self.scaled(parts, rows, scales, bias, transposed, accumulators))
        case .requantized(let multipliers, let bias, let zero, let type):
            let range: ClosedRange<Float> = type == .int8 ? -128...127 : 0...255
            let level = { (value: Int32, column: Int) -> Float in
                let scaled = (Float(value &+ (bias?[column] ?? 0)) * multipliers[column]).rounded(.toNearestOrEven)
                return min(max(scaled + Float(zero), range.lowerBound), range.upperBound)
            }
            return type == .int8
                ? Tensor(shape: shape, int8s: try Self.arranged(parts, rows, columns, transposed, accumulators) { Int8(level($0, $1)) })
                : Tensor(shape: shape, uint8s: try Self.arranged(parts, rows, columns, transposed, accumulators) { UInt8(level($0, $1)) })
        }
    }

    /// acc x scales[column] + bias[column], in C (see qf_scale_accumulators).
    private static func scaled(_ parts: Int, _ rows: Int, _ scales: [Float], _ bias: [Float]?, _ transposed: Bool,
                               _ accumulators: (Int) throws -> [Int32]) rethrows -> [Float] {
        let columns = scales.count, offsets = bias ?? [Float](repeating: 0, count: columns)
        return try joined(parts, plane: rows * columns, accumulators) { input, output in
            if transposed {
                qf_scale_accumulators_transposed(input, rows, columns, scales, offsets, output)
            } else {
                qf_scale_accumulators(input, rows, columns, scales, offsets, output)
            }
        }
    }

    /// `convert(value, column)` of each accumulator, row-major or, transposed, column-major.
    @inline(__always)
    private static func arranged<Element>(_ parts: Int, _ rows: Int, _ columns: Int, _ transposed: Bool,
                                          _ accumulators: (Int) throws -> [Int32],
                                          _ convert: (Int32, Int) -> Element) rethrows -> [Element] {
        try joined(parts, plane: rows * columns, accumulators) { input, output in
            for row in 0..<rows {
                for column in 0..<columns {
                    let target = transposed ? column * rows + row : row * columns + column
                    (output + target).initialize(to: convert(input[row * columns + column], column))
                }
            }
        }
    }

    /// One buffer of every part's `plane` elements, which `convert` writes from the part's accumulators.
    @inline(__always)
    private static func joined<Element>(_ parts: Int, plane: Int, _ accumulators: (Int) throws -> [Int32],
                                        _ convert: (UnsafePointer<Int32>, UnsafeMutablePointer<Element>) -> Void) rethrows -> [Element] {
        try [Element](recycledCapacity: parts * plane) { output, initialized in
            for part in 0..<parts {
                let values = try accumulators(part)
                precondition(values.count == plane, "part \(part) holds \(values.count) accumulators, not \(plane)")
                if plane > 0 { values.withUnsafeBufferPointer { convert($0.baseAddress!, output.baseAddress! + part * plane) } }
                values.recycle()
            }
            initialized = parts * plane
        }
    }
}
