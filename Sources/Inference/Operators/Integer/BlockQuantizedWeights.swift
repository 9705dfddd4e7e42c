import CQuantKernels

/// A constant weight matrix B [K, N] quantized in blocks of `blockSize` rows along K, one scale (and
/// zero point) per block and column: opset 21's blocked DequantizeLinear of an int4 weight-only
/// MatMul. 4-bit levels stay two to a byte in memory (the first in the low nibble, as in the file);
/// a strip of columns is dequantized on demand.
struct BlockQuantizedWeights: Sendable {
    let depth: Int
    let columns: Int
    let blockSize: Int
    /// Levels in row-major order: two 4-bit levels a byte, or one 8-bit level a byte.
    private let levels: [UInt8]
    private let isPacked: Bool
    /// Level -> value as (level - zero point) x scale, per block and column.
    private let scales: [Float]
    private let zeroPoints: [Float]
    /// Whether levels are signed (int4/int8) or not (uint4/uint8).
    private let isSigned: Bool

    init(_ weights: Tensor, scale: Tensor, zeroPoint: Tensor?, blockSize: Int) throws {
        guard weights.shape.count == 2 else {
            throw InferenceError.invalidOperand("block-quantized B must be 2-D, got shape \(weights.shape)")
        }
        (depth, columns) = (weights.shape[0], weights.shape[1])
        guard blockSize > 0 else { throw InferenceError.invalidOperand("block_size must be positive, got \(blockSize)") }
        let blocks = (depth + blockSize - 1) / blockSize
        guard scale.shape == [blocks, columns] else {
            throw InferenceError.invalidOperand("B \(weights.shape) in blocks of \(blockSize) needs scales of shape [\(blocks), \(columns)], got \(scale.shape)")
        }
        // A float zero point (MatMulNBits allows one of the scale's type) shifts the levels all the same.
        if let zeroPoint, zeroPoint.shape != scale.shape || (zeroPoint.elementType != weights.elementType && zeroPoint.elementType != scale.elementType) {
            throw InferenceError.invalidOperand(
                "B's zero point must be \(weights.elementType.rawValue) of shape \(scale.shape), got \(zeroPoint.elementType.rawValue) \(zeroPoint.shape)")
        }
        self.blockSize = blockSize
        scales = try scale.floatOperand("B's scale")
        zeroPoints = zeroPoint?.floats ?? Array(repeating: 0, count: scales.count)
        switch weights.storage {
        case .int4(let values):
            (levels, isPacked, isSigned) = (Self.pack(values.map { UInt8(bitPattern: $0) }), true, true)
        case .uint4(let values):
            (levels, isPacked, isSigned) = (Self.pack(values), true, false)
        case .int8(let values):
            (levels, isPacked, isSigned) = (values.map { UInt8(bitPattern: $0) }, false, true)
        case .uint8(let values):
            (levels, isPacked, isSigned) = (values, false, false)
        default:
            throw InferenceError.invalidOperand("block-quantized B must be int4, uint4, int8 or uint8, got \(weights.elementType.rawValue)")
        }
    }

    var residentBytes: Int { levels.count + (scales.count + zeroPoints.count) * MemoryLayout<Float>.stride }

    /// Writes B[:, strip] dequantized into `panel`, K rows `rowStride` apart, zeros after the strip.
    func dequantize(columns strip: Range<Int>, into panel: UnsafeMutablePointer<Float>, rowStride: Int) {
        if isPacked {
            qf_dequantize_4bit_strip(levels, isSigned ? 1 : 0, depth, columns, blockSize, scales, zeroPoints,
                                     strip.lowerBound, strip.count, panel, rowStride)
            return
        }
        let width = strip.count
        for row in 0..<depth {
            let parameters = (row / blockSize) * columns + strip.lowerBound, output = panel + row * rowStride
            for column in 0..<width {
                let level = levels[row * columns + strip.lowerBound + column]
                output[column] = ((isSigned ? Float(Int8(bitPattern: level)) : Float(level)) - zeroPoints[parameters + column])
                    * scales[parameters + column]
            }
            (output + width).initialize(repeating: 0, count: rowStride - width)
        }
    }

    private static func pack(_ nibbles: [UInt8]) -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: (nibbles.count + 1) / 2)
        for (index, value) in nibbles.enumerated() {
            packed[index / 2] |= index % 2 == 0 ? value & 0x0F : (value & 0x0F) << 4
        }
        return packed
    }
}
