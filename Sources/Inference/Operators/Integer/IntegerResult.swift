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

    /// Converts `accumulators` (`rows` x `columns`, row-major) into `shape`; with `transposed`, the
    /// output is laid out columns x rows (a convolution's filters x positions), image after image of
    /// `rows` each.
    func tensor(_ accumulators: [Int32], rows: Int, columns: Int, shape: [Int], transposed: Bool = false) -> Tensor {
        switch self {
        case .int32:
            return Tensor(shape: shape, int32s: Self.arranged(accumulators, rows: rows, columns: columns, transposed: transposed) { value, _ in value })
        case .float(let scales, let bias):
            return Tensor(shape: shape, floats: Self.scaled(accumulators, rows: rows, scales: scales, bias: bias, transposed: transposed))
        case .requantized(let multipliers, let bias, let zero, let type):
            let range: ClosedRange<Float> = type == .int8 ? -128...127 : 0...255
            let levels = Self.arranged(accumulators, rows: rows, columns: columns, transposed: transposed) { value, column in
                let scaled = (Float(value &+ (bias?[column] ?? 0)) * multipliers[column]).rounded(.toNearestOrEven)
                return Int32(min(max(scaled + Float(zero), range.lowerBound), range.upperBound))
            }
            return type == .int8
                ? Tensor(shape: shape, int8s: levels.map { Int8($0) })
                : Tensor(shape: shape, uint8s: levels.map { UInt8($0) })
        }
    }

    /// acc x scales[column] + bias[column], in C: row after row, or transposed image after image of
    /// `rows` x columns (see qf_scale_accumulators).
    private static func scaled(_ accumulators: [Int32], rows: Int, scales: [Float], bias: [Float]?, transposed: Bool) -> [Float] {
        let columns = scales.count, offsets = bias ?? [Float](repeating: 0, count: columns)
        let plane = rows * columns
        return [Float](recycledCapacity: accumulators.count) { output, initialized in
            accumulators.withUnsafeBufferPointer { input in
                if !transposed {
                    qf_scale_accumulators(input.baseAddress, columns == 0 ? 0 : input.count / columns, columns, scales, offsets,
                                          output.baseAddress)
                    return
                }
                for base in stride(from: 0, to: plane == 0 ? 0 : input.count, by: plane) {
                    qf_scale_accumulators_transposed(input.baseAddress! + base, rows, columns, scales, offsets, output.baseAddress! + base)
                }
            }
            initialized = accumulators.count
        }
    }

    /// `convert(value, column)` of each accumulator, in row-major order or, transposed, column-major
    /// within each image of `rows` x `columns`.
    @inline(__always)
    private static func arranged<Element>(_ accumulators: [Int32], rows: Int, columns: Int, transposed: Bool,
                                          _ convert: (Int32, Int) -> Element) -> [Element] {
        let count = accumulators.count, plane = rows * columns
        return [Element](recycledCapacity: count) { output, initialized in
            accumulators.withUnsafeBufferPointer { input in
                for image in 0..<(plane == 0 ? 0 : count / plane) {
                    let base = image * plane
                    for row in 0..<rows {
                        for column in 0..<columns {
                            let target = transposed ? base + column * rows + row : base + row * columns + column
                            (output.baseAddress! + target).initialize(to: convert(input[base + row * columns + column], column))
                        }
                    }
                }
            }
            initialized = count
        }
    }
}
