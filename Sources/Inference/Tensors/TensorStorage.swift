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

    var elementType: ElementType {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .int8: .int8
        case .uint8: .uint8
        case .int32: .int32
        case .int64: .int64
        case .bool: .bool
        }
    }

    var count: Int {
        switch self {
        case .float32(let values), .float16(let values): values.count
        case .int8(let values): values.count
        case .uint8(let values): values.count
        case .int32(let values): values.count
        case .int64(let values): values.count
        case .bool(let values): values.count
        }
    }

    /// Bytes the buffer holds in memory (FP16 is held as FP32).
    var residentBytes: Int {
        switch self {
        case .float32, .float16, .int32: count * 4
        case .int8, .uint8, .bool: count
        case .int64: count * 8
        }
    }

    var floats: [Float] {
        switch self {
        case .float32(let values), .float16(let values): values
        case .int8(let values): values.map(Float.init)
        case .uint8(let values): values.map(Float.init)
        case .int32(let values): values.map(Float.init)
        case .int64(let values): values.map(Float.init)
        case .bool(let values): values.map { $0 ? 1 : 0 }
        }
    }

    var int64s: [Int64] {
        switch self {
        case .float32(let values), .float16(let values):
            values.map { $0.isNaN ? 0 : Int64(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) }
        case .int8(let values): values.map(Int64.init)
        case .uint8(let values): values.map(Int64.init)
        case .int32(let values): values.map(Int64.init)
        case .int64(let values): values
        case .bool(let values): values.map { $0 ? 1 : 0 }
        }
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
        }
    }

    private var isNonzero: [Bool] {
        switch self {
        case .float32(let values), .float16(let values): values.map { $0 != 0 }
        case .bool(let values): values
        default: int64s.map { $0 != 0 }
        }
    }

    private func integers<T: FixedWidthInteger>(_: T.Type, named type: ElementType) throws -> [T] {
        switch self {
        case .float32(let values), .float16(let values):
            return try values.map { value in
                guard let exact = T(exactly: value.rounded(.towardZero)) else {
                    throw InferenceError.unrepresentableValue(value: "\(value)", type: type)
                }
                return exact
            }
        default:
            return int64s.map { T(truncatingIfNeeded: $0) }
        }
    }
}

extension TensorStorage {
    /// The elements at `positions`, in that order.
    func gathered(_ positions: [Int]) -> TensorStorage {
        switch self {
        case .float32(let values): .float32(positions.map { values[$0] })
        case .float16(let values): .float16(positions.map { values[$0] })
        case .int8(let values): .int8(positions.map { values[$0] })
        case .uint8(let values): .uint8(positions.map { values[$0] })
        case .int32(let values): .int32(positions.map { values[$0] })
        case .int64(let values): .int64(positions.map { values[$0] })
        case .bool(let values): .bool(positions.map { values[$0] })
        }
    }
}
