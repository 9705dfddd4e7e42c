/// The element types the engine stores. Floating-point arithmetic runs in FP32: a float16 or
/// bfloat16 tensor holds FP32 values exactly representable in its type, and a float64 tensor is
/// computed in FP32 and stored in double precision. An int4/uint4 tensor holds one value per byte in
/// memory and two per byte in files.
public enum ElementType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64
    case bool, int4, uint4

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
        case .bool: 9
        case .float16: 10
        case .float64: 11
        case .uint32: 12
        case .uint64: 13
        case .bfloat16: 16
        case .uint4: 21
        case .int4: 22
        }
    }

    /// The type for an ONNX `TensorProto.DataType` number, or nil when the engine does not support it.
    public init?(onnxDataType: Int32) {
        guard let type = Self.allCases.first(where: { $0.onnxDataType == onnxDataType }) else { return nil }
        self = type
    }

    /// Bytes one element takes in ONNX raw data and in .npy files (4-bit types: see `packedByteCount`).
    var byteWidth: Int {
        switch self {
        case .int4, .uint4, .int8, .uint8, .bool: 1
        case .float16, .bfloat16, .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// Bytes `count` elements take in ONNX raw data and in .npy files (4-bit types pack two per byte).
    func packedByteCount(_ count: Int) -> Int {
        self == .int4 || self == .uint4 ? (count + 1) / 2 : count * byteWidth
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .bfloat16 || self == .float64 }
}
