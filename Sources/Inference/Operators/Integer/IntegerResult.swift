import CQuantKernels

/// What an integer operator makes of its exact int32 accumulators: the accumulators themselves
/// (MatMulInteger, ConvInteger), floats (the fused MatMul/Conv of a QDQ graph), or a requantized
/// int8/uint8 tensor (QLinearMatMul, QLinearConv).
enum IntegerResult {
    case int32
    /// y = (acc + accumulatorBias[column]) x scales[column] (+ bias[column]). The int32 bias is the
    /// one quantize_dynamic's graphs add to a ConvInteger's output before their Cast and Mul.
    case float(Scaling)
    /// The float result quantized again, y = saturate(round_half_even(float / yScale) + yZero), as
    /// ConvIntegerToFloat -> QuantizeLinear computes it, but a tile at a time while it is in cache.
    case quantizedFloat(Scaling, yScale: Float, yZero: UInt8)
    /// y = saturate(round_half_even((acc + bias[column]) x multipliers[column]) + zero).
    case requantized(multipliers: [Float], bias: [Int32]?, zero: Int32, type: ElementType)

    /// Converts the accumulators of `parts` equal parts (`rows` x `columns` each, row-major) into one
    /// tensor of `shape`, part after part. `accumulate(part, rows, into)` writes the accumulators of
    /// some of a part's rows (all of them, or `tileRows` at a time) into a scratch buffer, converted
    /// before the next tile, so that a tile's int32 values stay in cache and those of a whole part
    /// never exist at once. With `transposed`, each part is laid out columns x rows (one image of a
    /// convolution: filters x positions).
    func tensor(parts: Int = 1, rows: Int, columns: Int, tileRows: Int? = nil, shape: [Int], transposed: Bool = false,
                accumulate: (_ part: Int, _ rows: Range<Int>, _ into: UnsafeMutablePointer<Int32>) throws -> Void) rethrows -> Tensor {
        let tiles = Tiling(parts: parts, rows: rows, columns: columns, tileRows: tileRows ?? rows)
        switch self {
        case .int32:
            return Tensor(shape: shape, int32s: try tiles.arranged(transposed, accumulate) { value, _ in value })
        case .float(let scaling):
            let (offsets, accumulatorOffsets) = scaling.offsets(columns: columns)
            // (acc + accumulatorBias[column]) x scales[column] + bias[column], in C (see qf_scale_accumulators).
            return Tensor(shape: shape, floats: try tiles.joined(accumulate) { input, plane, tile in
                if transposed {
                    qf_scale_accumulators_transposed(input, tile.count, columns, accumulatorOffsets, scaling.scales, offsets, plane + tile.lowerBound, rows)
                } else {
                    qf_scale_accumulators(input, tile.count, columns, accumulatorOffsets, scaling.scales, offsets, plane + tile.lowerBound * columns)
                }
            })
        case .quantizedFloat(let scaling, let yScale, let yZero):
            let (offsets, accumulatorOffsets) = scaling.offsets(columns: columns)
            // Each tile scaled into a float buffer of its own size (transposed: one run of the tile's
            // positions per column), then quantized into its place.
            var floats = [Float](recycledUnwritten: tiles.tileCount * columns)
            defer { floats.recycle() }
            return Tensor(shape: shape, uint8s: try floats.withUnsafeMutableBufferPointer { floats in
                try tiles.joined(accumulate) { (input, plane: UnsafeMutablePointer<UInt8>, tile) in
                    let scaled = floats.baseAddress!
                    if transposed {
                        qf_scale_accumulators_transposed(input, tile.count, columns, accumulatorOffsets, scaling.scales, offsets, scaled, tile.count)
                        for column in 0..<columns {
                            qf_quantize_u8(scaled + column * tile.count, tile.count, yScale, yZero, plane + column * rows + tile.lowerBound)
                        }
                    } else {
                        qf_scale_accumulators(input, tile.count, columns, accumulatorOffsets, scaling.scales, offsets, scaled)
                        qf_quantize_u8(scaled, tile.count * columns, yScale, yZero, plane + tile.lowerBound * columns)
                    }
                }
            })
        case .requantized(let multipliers, let bias, let zero, let type):
            let range: ClosedRange<Float> = type == .int8 ? -128...127 : 0...255
            let level = { (value: Int32, column: Int) -> Float in
                let scaled = (Float(value &+ (bias?[column] ?? 0)) * multipliers[column]).rounded(.toNearestOrEven)
                return min(max(scaled + Float(zero), range.lowerBound), range.upperBound)
            }
            return type == .int8
                ? Tensor(shape: shape, int8s: try tiles.arranged(transposed, accumulate) { Int8(level($0, $1)) })
                : Tensor(shape: shape, uint8s: try tiles.arranged(transposed, accumulate) { UInt8(level($0, $1)) })
        }
    }

    /// y = (acc + accumulatorBias[column]) x scales[column] + bias[column].
    struct Scaling {
        let scales: [Float]
        let bias: [Float]?
        var accumulatorBias: [Int32]? = nil

        /// The bias and the accumulator bias, zeros where absent.
        func offsets(columns: Int) -> (bias: [Float], accumulatorBias: [Int32]) {
            (bias ?? [Float](repeating: 0, count: columns), accumulatorBias ?? [Int32](repeating: 0, count: columns))
        }
    }

    /// The parts of a result cut into tiles of rows, and the loops over them.
    private struct Tiling {
        let parts: Int
        let rows: Int
        let columns: Int
        let tileRows: Int

        /// Rows of the largest tile.
        var tileCount: Int { max(1, min(tileRows, rows)) }

        /// `convert(value, column)` of each accumulator, row-major or, transposed, column-major.
        @inline(__always)
        func arranged<Element>(_ transposed: Bool, _ accumulate: (Int, Range<Int>, UnsafeMutablePointer<Int32>) throws -> Void,
                               _ convert: (Int32, Int) -> Element) rethrows -> [Element] {
            try joined(accumulate) { input, plane, tile in
                for row in tile {
                    for column in 0..<columns {
                        let target = transposed ? column * rows + row : row * columns + column
                        (plane + target).initialize(to: convert(input[(row - tile.lowerBound) * columns + column], column))
                    }
                }
            }
        }

        /// One buffer of every part's rows x columns elements, which `convert(accumulators, part's
        /// plane, tile)` writes from each tile's accumulators.
        @inline(__always)
        func joined<Element>(_ accumulate: (Int, Range<Int>, UnsafeMutablePointer<Int32>) throws -> Void,
                             _ convert: (UnsafePointer<Int32>, UnsafeMutablePointer<Element>, Range<Int>) -> Void) rethrows -> [Element] {
            let plane = rows * columns, tileRows = tileCount
            var scratch = [Int32](recycledUnwritten: plane > 0 ? tileRows * columns : 0)
            defer { scratch.recycle() }
            return try [Element](recycledCapacity: parts * plane) { output, initialized in
                guard plane > 0 else { return }
                try scratch.withUnsafeMutableBufferPointer { accumulators in
                    for part in 0..<parts {
                        for first in stride(from: 0, to: rows, by: tileRows) {
                            let tile = first..<min(first + tileRows, rows)
                            try accumulate(part, tile, accumulators.baseAddress!)
                            convert(accumulators.baseAddress!, output.baseAddress! + part * plane, tile)
                        }
                    }
                }
                initialized = parts * plane
            }
        }
    }
}
