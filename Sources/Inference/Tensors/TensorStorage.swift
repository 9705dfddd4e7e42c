/// The element buffer of a tensor; its case is the tensor's element type.
enum TensorStorage: Sendable, Equatable {
    case float32([Float])
    /// FP32 values already rounded to half precision (the engine computes in FP32).
    case float16([Float])
    case int8([Int8])
    case uint8([UInt8])
    case int32([Int32])
    case int64([Int64])
    case bool([Bool])
    /// One 4-bit value per element, sign-extended to -8...7.
    case int4([Int8])
    /// One 4-bit value per element, 0...15.
    case uint4([UInt8])

    var elementType: ElementType {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .int8: .int8
        case .uint8: .uint8
        case .int32: .int32
        case .int64: .int64
        case .bool: .bool
        case .int4: .int4
        case .uint4: .uint4
        }
    }

    var count: Int {
        switch self {
        case .float32(let values), .float16(let values): values.count
        case .int8(let values), .int4(let values): values.count
        case .uint8(let values), .uint4(let values): values.count
        case .int32(let values): values.count
        case .int64(let values): values.count
        case .bool(let values): values.count
        }
    }

    /// Bytes the buffer holds in memory (FP16 is held as FP32, 4-bit values one per byte).
    var residentBytes: Int {
        switch self {
        case .float32, .float16, .int32: count * 4
        case .int8, .uint8, .bool, .int4, .uint4: count
        case .int64: count * 8
        }
    }

    var floats: [Float] {
        switch self {
        case .float32(let values), .float16(let values): values
        case .int8(let values), .int4(let values): values.map(Float.init)
        case .uint8(let values), .uint4(let values): values.map(Float.init)
        case .int32(let values): values.map(Float.init)
        case .int64(let values): values.map(Float.init)
        case .bool(let values): values.map { $0 ? 1 : 0 }
        }
    }

    var int64s: [Int64] {
        switch self {
        case .float32(let values), .float16(let values): values.map(Self.truncated)
        case .int8(let values), .int4(let values): values.map(Int64.init)
        case .uint8(let values), .uint4(let values): values.map(Int64.init)
        case .int32(let values): values.map(Int64.init)
        case .int64(let values): values
        case .bool(let values): values.map { $0 ? 1 : 0 }
        }
    }

    /// Element `index` as `floats` gives it, without converting the others: operators read their
    /// scalar operands (zero points, bounds, factors) every run.
    func float(at index: Int) -> Float {
        switch self {
        case .float32(let values), .float16(let values): values[index]
        case .int8(let values), .int4(let values): Float(values[index])
        case .uint8(let values), .uint4(let values): Float(values[index])
        case .int32(let values): Float(values[index])
        case .int64(let values): Float(values[index])
        case .bool(let values): values[index] ? 1 : 0
        }
    }

    /// Element `index` as `int64s` gives it, without converting the others.
    func int64(at index: Int) -> Int64 {
        switch self {
        case .float32(let values), .float16(let values): Self.truncated(values[index])
        case .int8(let values), .int4(let values): Int64(values[index])
        case .uint8(let values), .uint4(let values): Int64(values[index])
        case .int32(let values): Int64(values[index])
        case .int64(let values): values[index]
        case .bool(let values): values[index] ? 1 : 0
        }
    }

    /// Toward zero, saturated; NaN is 0.
    private static func truncated(_ value: Float) -> Int64 {
        value.isNaN ? 0 : Int64(exactly: value.rounded(.towardZero)) ?? (value < 0 ? .min : .max)
    }

    func converted(to type: ElementType) throws -> TensorStorage {
        if type == elementType { return self }
        switch type {
        case .float32: return .float32(floats)
        case .float16: return .float16(floats.map { Float(Float16($0)) })
        case .bool: return .bool(isNonzero)
        case .int8: return .int8(try integers(Int8.self, named: type))
        case .uint8: return .uint8(try integers(UInt8.self, named: type))
        case .int32: return .int32(try integers(Int32.self, named: type))
        case .int64: return .int64(try integers(Int64.self, named: type))
        case .int4: return .int4(try integers(Int8.self, named: type, in: -8...7))
        case .uint4: return .uint4(try integers(UInt8.self, named: type, in: 0...15))
        }
    }

    private var isNonzero: [Bool] {
        switch self {
        case .float32(let values), .float16(let values): values.map { $0 != 0 }
        case .bool(let values): values
        default: int64s.map { $0 != 0 }
        }
    }

    /// Elements as `T`, truncated toward zero from floats. `limits` narrows T to a 4-bit type, into
    /// which integers and floats wrap (as ONNX's Cast to int4 does); T itself refuses floats outside it.
    private func integers<T: FixedWidthInteger>(_: T.Type, named type: ElementType, in limits: ClosedRange<Int64>? = nil) throws -> [T] {
        let wholes: [Int64]
        switch self {
        case .float32(let values), .float16(let values):
            wholes = try values.map { value in
                guard let exact = Int64(exactly: value.rounded(.towardZero)), limits != nil || (Int64(T.min)...Int64(T.max)).contains(exact) else {
                    throw InferenceError.unrepresentableValue(value: "\(value)", type: type)
                }
                return exact
            }
        default:
            wholes = int64s
        }
        guard let limits else { return wholes.map { T(truncatingIfNeeded: $0) } }
        let width = Int64(limits.count)
        return wholes.map { T(((($0 - limits.lowerBound) % width) + width) % width + limits.lowerBound) }
    }
}

extension TensorStorage {
    /// The elements of `shape` (row-major) read from this storage starting at `offset`, stepping
    /// `sourceStrides[axis]` along each axis: a transposed or sliced view, copied.
    func strided(shape: [Int], sourceStrides: [Int], offset: Int) -> TensorStorage {
        switch self {
        case .float32(let values): .float32(Self.strided(values, shape, sourceStrides, offset))
        case .float16(let values): .float16(Self.strided(values, shape, sourceStrides, offset))
        case .int8(let values): .int8(Self.strided(values, shape, sourceStrides, offset))
        case .uint8(let values): .uint8(Self.strided(values, shape, sourceStrides, offset))
        case .int32(let values): .int32(Self.strided(values, shape, sourceStrides, offset))
        case .int64(let values): .int64(Self.strided(values, shape, sourceStrides, offset))
        case .bool(let values): .bool(Self.strided(values, shape, sourceStrides, offset))
        case .int4(let values): .int4(Self.strided(values, shape, sourceStrides, offset))
        case .uint4(let values): .uint4(Self.strided(values, shape, sourceStrides, offset))
        }
    }

    private static func strided<T>(_ values: [T], _ shape: [Int], _ strides: [Int], _ offset: Int) -> [T] {
        let count = shape.reduce(1, *), width = shape.last ?? 1, step = strides.last ?? 0
        return [T](recycledCapacity: count) { output, initialized in
            values.withUnsafeBufferPointer { source in
                Broadcasting.forEachRow(of: shape, strides, strides) { row, start, _ in
                    let target = output.baseAddress! + row * width, first = offset + start
                    for column in 0..<width { (target + column).initialize(to: source[first + column * step]) }
                }
            }
            initialized = count
        }
    }

    /// `width` elements from each of `starts` in turn (whole rows: Gather's blocks).
    func runs(from starts: [Int], width: Int) -> TensorStorage {
        switch self {
        case .float32(let values): .float32(Self.runs(values, starts, width))
        case .float16(let values): .float16(Self.runs(values, starts, width))
        case .int8(let values): .int8(Self.runs(values, starts, width))
        case .uint8(let values): .uint8(Self.runs(values, starts, width))
        case .int32(let values): .int32(Self.runs(values, starts, width))
        case .int64(let values): .int64(Self.runs(values, starts, width))
        case .bool(let values): .bool(Self.runs(values, starts, width))
        case .int4(let values): .int4(Self.runs(values, starts, width))
        case .uint4(let values): .uint4(Self.runs(values, starts, width))
        }
    }

    private static func runs<T>(_ values: [T], _ starts: [Int], _ width: Int) -> [T] {
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

    /// The elements at `positions`, in that order.
    func gathered(_ positions: [Int]) -> TensorStorage {
        switch self {
        case .float32(let values): .float32(positions.map { values[$0] })
        case .float16(let values): .float16(positions.map { values[$0] })
        case .int8(let values): .int8(positions.map { values[$0] })
        case .uint8(let values): .uint8(positions.map { values[$0] })
        case .int4(let values): .int4(positions.map { values[$0] })
        case .uint4(let values): .uint4(positions.map { values[$0] })
        case .int32(let values): .int32(positions.map { values[$0] })
        case .int64(let values): .int64(positions.map { values[$0] })
        case .bool(let values): .bool(positions.map { values[$0] })
        }
    }
}
