import Foundation

/// The element buffer of a tensor; its case is the tensor's element type. A few Swift arrays hold
/// them all: FP32 holds float16 and bfloat16 (rounded to their precision), Int8/UInt8 the 4-bit types.
enum TensorStorage: Sendable, Equatable {
    case float32([Float])
    /// FP32 values already rounded to half precision (the engine computes in FP32).
    case float16([Float])
    /// FP32 values already rounded to bfloat16 (the upper 16 bits of an FP32).
    case bfloat16([Float])
    case float64([Double])
    case int8([Int8])
    case uint8([UInt8])
    case int16([Int16])
    case uint16([UInt16])
    case int32([Int32])
    case uint32([UInt32])
    case int64([Int64])
    case uint64([UInt64])
    case bool([Bool])
    /// One 4-bit value per element, sign-extended to -8...7.
    case int4([Int8])
    /// One 4-bit value per element, 0...15.
    case uint4([UInt8])
    /// One 2-bit value per element, sign-extended to -2...1.
    case int2([Int8])
    /// One 2-bit value per element, 0...3.
    case uint2([UInt8])
    /// FP32 values already rounded to an 8- or 4-bit float format.
    case smallFloat(SmallFloatFormat, [Float])
    /// UTF-8 strings (ONNX's string type holds bytes; invalid UTF-8 is repaired on decoding).
    case string([String])

    var elementType: ElementType {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .float64: .float64
        case .int8: .int8
        case .uint8: .uint8
        case .int16: .int16
        case .uint16: .uint16
        case .int32: .int32
        case .uint32: .uint32
        case .int64: .int64
        case .uint64: .uint64
        case .bool: .bool
        case .int4: .int4
        case .uint4: .uint4
        case .int2: .int2
        case .uint2: .uint2
        case .smallFloat(let format, _): ElementType(format)
        case .string: .string
        }
    }

    /// The same elements rearranged (gathered, sliced, interleaved) in the same case: the one place
    /// that type-agnostic data movement meets every element type.
    func rearranged(_ rearrange: some ElementRearrangement) -> TensorStorage {
        switch self {
        case .float32(let values): .float32(rearrange(values))
        case .float16(let values): .float16(rearrange(values))
        case .bfloat16(let values): .bfloat16(rearrange(values))
        case .float64(let values): .float64(rearrange(values))
        case .int8(let values): .int8(rearrange(values))
        case .uint8(let values): .uint8(rearrange(values))
        case .int16(let values): .int16(rearrange(values))
        case .uint16(let values): .uint16(rearrange(values))
        case .int32(let values): .int32(rearrange(values))
        case .uint32(let values): .uint32(rearrange(values))
        case .int64(let values): .int64(rearrange(values))
        case .uint64(let values): .uint64(rearrange(values))
        case .bool(let values): .bool(rearrange(values))
        case .int4(let values): .int4(rearrange(values))
        case .uint4(let values): .uint4(rearrange(values))
        case .int2(let values): .int2(rearrange(values))
        case .uint2(let values): .uint2(rearrange(values))
        case .smallFloat(let format, let values): .smallFloat(format, rearrange(values))
        case .string(let values): .string(rearrange(values))
        }
    }

    /// The Swift array holding the elements, untyped (the run arena shelves it; interleaving reads
    /// parts of one case through it).
    var elements: any Sendable {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): values
        case .float64(let values): values
        case .int8(let values), .int4(let values), .int2(let values): values
        case .uint8(let values), .uint4(let values), .uint2(let values): values
        case .int16(let values): values
        case .uint16(let values): values
        case .int32(let values): values
        case .uint32(let values): values
        case .int64(let values): values
        case .uint64(let values): values
        case .bool(let values): values
        case .string(let values): values
        }
    }

    var count: Int {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): values.count
        case .float64(let values): values.count
        case .int8(let values), .int4(let values), .int2(let values): values.count
        case .uint8(let values), .uint4(let values), .uint2(let values): values.count
        case .int16(let values): values.count
        case .uint16(let values): values.count
        case .int32(let values): values.count
        case .uint32(let values): values.count
        case .int64(let values): values.count
        case .uint64(let values): values.count
        case .bool(let values): values.count
        case .string(let values): values.count
        }
    }

    /// Bytes the buffer holds in memory (FP16 and bfloat16 are held as FP32, 4-bit values one per byte).
    var residentBytes: Int {
        switch self {
        case .float16, .bfloat16, .smallFloat: count * 4
        case .string(let values): values.reduce(0) { $0 + $1.utf8.count }
        default: count * elementType.byteWidth
        }
    }

    var floats: [Float] {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): values
        case .float64(let values): values.map(Float.init)
        case .int8(let values), .int4(let values), .int2(let values): values.map(Float.init)
        case .uint8(let values), .uint4(let values), .uint2(let values): values.map(Float.init)
        case .int16(let values): values.map(Float.init)
        case .uint16(let values): values.map(Float.init)
        case .int32(let values): values.map(Float.init)
        case .uint32(let values): values.map { Float($0) } // not map(Float.init): that picks init(bitPattern:)
        case .int64(let values): values.map(Float.init)
        case .uint64(let values): values.map(Float.init)
        case .bool(let values): values.map { $0 ? 1 : 0 }
        // Cast's rule for strings: parsed, NaN where not a number.
        case .string(let values): values.map { Float($0.trimmingCharacters(in: .whitespaces)) ?? .nan }
        }
    }

    /// The elements in double precision, exact for every integer up to 2^53 (Cast to float64).
    var doubles: [Double] {
        switch self {
        case .float64(let values): values
        case .uint64(let values): values.map { Double($0) } // not map(Double.init): that picks init(bitPattern:)
        case .string(let values): values.map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan }
        case .float32, .float16, .bfloat16, .smallFloat, .bool: floats.map(Double.init)
        default: int64s.map(Double.init)
        }
    }

    var int64s: [Int64] {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): values.map(Self.truncated)
        case .float64(let values): values.map(Self.truncated)
        case .int8(let values), .int4(let values), .int2(let values): values.map(Int64.init)
        case .uint8(let values), .uint4(let values), .uint2(let values): values.map(Int64.init)
        case .int16(let values): values.map(Int64.init)
        case .uint16(let values): values.map(Int64.init)
        case .int32(let values): values.map(Int64.init)
        case .uint32(let values): values.map(Int64.init)
        case .int64(let values): values
        case .uint64(let values): values.map { Int64(bitPattern: $0) }
        case .bool(let values): values.map { $0 ? 1 : 0 }
        case .string(let values): values.map { Int64($0.trimmingCharacters(in: .whitespaces)) ?? 0 }
        }
    }

    /// Element `index` as `floats` gives it, without converting the others: operators read their
    /// scalar operands (zero points, bounds, factors) every run.
    func float(at index: Int) -> Float {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): values[index]
        case .float64(let values): Float(values[index])
        case .int8(let values), .int4(let values), .int2(let values): Float(values[index])
        case .uint8(let values), .uint4(let values), .uint2(let values): Float(values[index])
        case .int16(let values): Float(values[index])
        case .uint16(let values): Float(values[index])
        case .int32(let values): Float(values[index])
        case .uint32(let values): Float(values[index])
        case .int64(let values): Float(values[index])
        case .uint64(let values): Float(values[index])
        case .bool(let values): values[index] ? 1 : 0
        case .string(let values): Float(values[index].trimmingCharacters(in: .whitespaces)) ?? .nan
        }
    }

    /// Element `index` as `int64s` gives it, without converting the others; uint64 keeps its bits.
    func int64(at index: Int) -> Int64 {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): Self.truncated(values[index])
        case .float64(let values): Self.truncated(values[index])
        case .int8(let values), .int4(let values), .int2(let values): Int64(values[index])
        case .uint8(let values), .uint4(let values), .uint2(let values): Int64(values[index])
        case .int16(let values): Int64(values[index])
        case .uint16(let values): Int64(values[index])
        case .int32(let values): Int64(values[index])
        case .uint32(let values): Int64(values[index])
        case .int64(let values): values[index]
        case .uint64(let values): Int64(bitPattern: values[index])
        case .bool(let values): values[index] ? 1 : 0
        case .string(let values): Int64(values[index].trimmingCharacters(in: .whitespaces)) ?? 0
        }
    }

    /// Toward zero, saturated; NaN is 0.
    private static func truncated<F: BinaryFloatingPoint>(_ value: F) -> Int64 {
        value.isNaN ? 0 : Int64(exactly: value.rounded(.towardZero)) ?? (value < 0 ? .min : .max)
    }

    /// Rounds to the nearest bfloat16 (ties to even), held in FP32.
    static func roundedToBFloat16(_ value: Float) -> Float {
        guard !value.isNaN else { return value }
        let bits = value.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }

    /// `saturating` is ONNX Cast's attribute for the float8 types (values past the largest finite
    /// one become it, else infinity or NaN); `e8m0Rounding` its round_mode.
    func converted(to type: ElementType, saturating: Bool = true, e8m0Rounding: SmallFloatFormat.E8M0Rounding = .up) throws -> TensorStorage {
        if type == elementType { return self }
        if let format = type.smallFloatFormat {
            return .smallFloat(format, floats.map { format.rounded($0, saturating: saturating, e8m0Rounding: e8m0Rounding) })
        }
        switch type {
        case .string: return .string(texts)
        case .float32: return .float32(floats)
        case .float16: return .float16(floats.map { Float(Float16($0)) })
        case .bfloat16: return .bfloat16(floats.map(Self.roundedToBFloat16))
        case .float64: return .float64(doubles)
        case .bool: return .bool(isNonzero)
        case .int8: return .int8(try integers(Int8.self, named: type))
        case .uint8: return .uint8(try integers(UInt8.self, named: type))
        case .int16: return .int16(try integers(Int16.self, named: type))
        case .uint16: return .uint16(try integers(UInt16.self, named: type))
        case .int32: return .int32(try integers(Int32.self, named: type))
        case .uint32: return .uint32(try integers(UInt32.self, named: type))
        case .int64: return .int64(try integers(Int64.self, named: type))
        case .uint64: return .uint64(try integers(UInt64.self, named: type))
        case .int4: return .int4(try integers(Int8.self, named: type, in: -8...7))
        case .uint4: return .uint4(try integers(UInt8.self, named: type, in: 0...15))
        case .int2: return .int2(try integers(Int8.self, named: type, in: -2...1))
        case .uint2: return .uint2(try integers(UInt8.self, named: type, in: 0...3))
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0, .float4e2m1:
            preconditionFailure("small float types convert above")
        }
    }

    /// The elements as text, as Cast to string writes them: integers in decimal, floats in their
    /// shortest round-trip form (NaN, INF and -INF as onnxruntime spells them), bools as 1 and 0.
    private var texts: [String] {
        switch self {
        case .string(let values): return values
        case .bool(let values): return values.map { $0 ? "1" : "0" }
        case .float64(let values): return values.map { Self.text($0) }
        default:
            return elementType.isFloatingPoint ? floats.map { Self.text($0) } : int64s.map(String.init)
        }
    }

    private static func text<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-INF" : "INF" }
        return "\(value)"
    }

    private var isNonzero: [Bool] {
        switch self {
        case .float32(let values), .float16(let values), .bfloat16(let values), .smallFloat(_, let values): values.map { $0 != 0 }
        case .float64(let values): values.map { $0 != 0 }
        case .bool(let values): values
        case .string(let values): values.map { !$0.isEmpty }
        default: int64s.map { $0 != 0 }
        }
    }

    /// Elements as `T`, truncated toward zero from floats. `limits` narrows T to a 4-bit type, into
    /// which integers and floats wrap (as ONNX's Cast to int4 does); T itself refuses floats outside it.
    private func integers<T: FixedWidthInteger>(_: T.Type, named type: ElementType, in limits: ClosedRange<Int64>? = nil) throws -> [T] {
        let wholes: [Int64]
        if elementType.isFloatingPoint {
            wholes = try doubles.map { value in
                guard let exact = Int64(exactly: value.rounded(.towardZero)),
                      limits != nil || (Double(T.min)...Double(T.max)).contains(Double(exact)) else {
                    throw InferenceError.unrepresentableValue(value: "\(value)", type: type)
                }
                return exact
            }
        } else {
            wholes = int64s
        }
        guard let limits else { return wholes.map { T(truncatingIfNeeded: $0) } }
        let width = Int64(limits.count)
        return wholes.map { T(((($0 - limits.lowerBound) % width) + width) % width + limits.lowerBound) }
    }
}

/// A rearrangement of elements that is the same for every element type.
protocol ElementRearrangement {
    func callAsFunction<T>(_ values: [T]) -> [T]
}

extension TensorStorage {
    /// The elements of `shape` (row-major) read from this storage starting at `offset`, stepping
    /// `sourceStrides[axis]` along each axis: a transposed or sliced view, copied.
    func strided(shape: [Int], sourceStrides: [Int], offset: Int) -> TensorStorage {
        rearranged(StridedCopy(shape: shape, strides: sourceStrides, offset: offset))
    }

    private struct StridedCopy: ElementRearrangement {
        let shape: [Int], strides: [Int], offset: Int

        func callAsFunction<T>(_ values: [T]) -> [T] {
            let count = shape.reduce(1, *)
            let (shape, merged) = Broadcasting.mergingAxes(shape, [strides])
            let strides = merged[0], width = shape.last ?? 1, step = strides.last ?? 0
            return [T](recycledCapacity: count) { output, initialized in
                values.withUnsafeBufferPointer { source in
                    Broadcasting.forEachRow(of: shape, strides, strides) { row, start, _ in
                        let target = output.baseAddress! + row * width, first = offset + start
                        if step == 1 {
                            target.initialize(from: source.baseAddress! + first, count: width)
                        } else {
                            for column in 0..<width { (target + column).initialize(to: source[first + column * step]) }
                        }
                    }
                }
                initialized = count
            }
        }
    }

    /// `width` elements from each of `starts` in turn (whole rows: Gather's blocks).
    func runs(from starts: [Int], width: Int) -> TensorStorage {
        rearranged(Runs(starts: starts, width: width))
    }

    private struct Runs: ElementRearrangement {
        let starts: [Int], width: Int

        func callAsFunction<T>(_ values: [T]) -> [T] {
            [T](recycledCapacity: starts.count * width) { output, initialized in
                if width > 0 {
                    values.withUnsafeBufferPointer { source in
                        for (run, start) in starts.enumerated() {
                            (output.baseAddress! + run * width).initialize(from: source.baseAddress! + start, count: width)
                        }
                    }
                }
                initialized = starts.count * width
            }
        }
    }

    /// The elements at `positions`, in that order.
    func gathered(_ positions: [Int]) -> TensorStorage {
        rearranged(Gathering(positions: positions))
    }

    private struct Gathering: ElementRearrangement {
        let positions: [Int]

        func callAsFunction<T>(_ values: [T]) -> [T] { positions.map { values[$0] } }
    }
}
