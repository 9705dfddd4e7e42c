/// The element types the engine stores. Floating-point arithmetic runs in FP32: a float16, bfloat16,
/// float8 or float4 tensor holds FP32 values exactly representable in its type, and a float64 tensor
/// is computed in FP32 and stored in double precision. 4- and 2-bit integers are held one value per
/// byte in memory and packed in files.
public enum ElementType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64
    case float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz, float8e8m0, float4e2m1
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64
    case bool, int4, uint4, int2, uint2
    case string

    /// The `TensorProto.DataType` number ONNX uses for this type.
    public var onnxDataType: Int32 {
        switch self {
        case .float32: 1
        case .uint8: 2
        case .int8: 3
        case .uint16: 4
        case .int16: 5
        case .int32: 6
        case .int64: 7
        case .string: 8
        case .bool: 9
        case .float16: 10
        case .float64: 11
        case .uint32: 12
        case .uint64: 13
        case .bfloat16: 16
        case .float8e4m3fn: 17
        case .float8e4m3fnuz: 18
        case .float8e5m2: 19
        case .float8e5m2fnuz: 20
        case .uint4: 21
        case .int4: 22
        case .float4e2m1: 23
        case .float8e8m0: 24
        case .uint2: 25
        case .int2: 26
        }
    }

    /// The 8- or 4-bit float format of a small float type.
    var smallFloatFormat: SmallFloatFormat? {
        switch self {
        case .float8e4m3fn: .e4m3fn
        case .float8e4m3fnuz: .e4m3fnuz
        case .float8e5m2: .e5m2
        case .float8e5m2fnuz: .e5m2fnuz
        case .float8e8m0: .e8m0
        case .float4e2m1: .e2m1
        default: nil
        }
    }

    init(_ format: SmallFloatFormat) {
        self = Self.allCases.first { $0.smallFloatFormat == format }!
    }

    /// Bits an element takes in files when fewer than 8 (packed several to a byte, the first lowest).
    var packedBits: Int? {
        switch self {
        case .int4, .uint4, .float4e2m1: 4
        case .int2, .uint2: 2
        default: nil
        }
    }

    /// The type for an ONNX `TensorProto.DataType` number, or nil when the engine does not support it.
    public init?(onnxDataType: Int32) {
        guard let type = Self.allCases.first(where: { $0.onnxDataType == onnxDataType }) else { return nil }
        self = type
    }

    /// Bytes one element takes in memory and, unless packed, in ONNX raw data and .npy files.
    var byteWidth: Int {
        switch self {
        case .int4, .uint4, .int2, .uint2, .float4e2m1, .int8, .uint8, .bool: 1
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0: 1
        case .float16, .bfloat16, .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        // Strings have no fixed width: ONNX carries them in string_data, never in raw data.
        case .string: 0
        }
    }

    /// Bytes `count` elements take in ONNX raw data (4-bit types pack two per byte, 2-bit four).
    func packedByteCount(_ count: Int) -> Int {
        guard let bits = packedBits else { return count * byteWidth }
        let perByte = 8 / bits
        return (count + perByte - 1) / perByte
    }

    /// A set of element types as bits, tested with one AND (the executor's per-operand type check).
    struct BitSet: Sendable {
        private let bits: UInt32

        init(_ types: Set<ElementType>) {
            bits = types.reduce(0) { $0 | $1.bit }
        }

        @inline(__always)
        func contains(_ type: ElementType) -> Bool { bits & type.bit != 0 }
    }

    /// This type's bit: its position among the cases (fewer than 32).
    private var bit: UInt32 {
        switch self {
        case .float32: 1 << 0
        case .float16: 1 << 1
        case .bfloat16: 1 << 2
        case .float64: 1 << 3
        case .float8e4m3fn: 1 << 4
        case .float8e4m3fnuz: 1 << 5
        case .float8e5m2: 1 << 6
        case .float8e5m2fnuz: 1 << 7
        case .float8e8m0: 1 << 8
        case .float4e2m1: 1 << 9
        case .int8: 1 << 10
        case .uint8: 1 << 11
        case .int16: 1 << 12
        case .uint16: 1 << 13
        case .int32: 1 << 14
        case .uint32: 1 << 15
        case .int64: 1 << 16
        case .uint64: 1 << 17
        case .bool: 1 << 18
        case .int4: 1 << 19
        case .uint4: 1 << 20
        case .int2: 1 << 21
        case .uint2: 1 << 22
        case .string: 1 << 23
        }
    }

    public var isFloatingPoint: Bool {
        self == .float32 || self == .float16 || self == .bfloat16 || self == .float64 || smallFloatFormat != nil
    }
}
