/// The element types the engine stores. Floating-point arithmetic always runs in FP32: a float16
/// tensor holds FP32 values that are exactly representable in half precision; an int4/uint4 tensor
/// holds one value per byte in memory and two per byte in files.
public enum ElementType: String, Sendable, CaseIterable {
    case float32, float16, int8, uint8, int32, int64, bool, int4, uint4

    /// The `TensorProto.DataType` number ONNX uses for this type.
    public var onnxDataType: Int32 {
        switch self {
        case .float32: 1
        case .uint8: 2
        case .int8: 3
        case .int32: 6
        case .int64: 7
        case .bool: 9
        case .float16: 10
        case .uint4: 21
        case .int4: 22
        }
    }

    /// The type for an ONNX `TensorProto.DataType` number, or nil when the engine does not support it.
    public init?(onnxDataType: Int32) {
        guard let type = Self.allCases.first(where: { $0.onnxDataType == onnxDataType }) else { return nil }
        self = type
    }

    /// Bytes `count` elements take in ONNX raw data and in .npy files (4-bit types pack two per byte).
    func packedByteCount(_ count: Int) -> Int {
        switch self {
        case .int4, .uint4: (count + 1) / 2
        case .int8, .uint8, .bool: count
        case .float16: count * 2
        case .float32, .int32: count * 4
        case .int64: count * 8
        }
    }

    var isFloatingPoint: Bool { self == .float32 || self == .float16 }
}
