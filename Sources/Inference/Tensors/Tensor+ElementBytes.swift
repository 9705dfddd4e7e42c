import Foundation

/// A tensor's elements as packed little-endian bytes (ONNX raw data's layout), for transports that
/// carry tensors raw, such as the Open Inference Protocol's binary tensor data. Strings have no
/// fixed-width bytes, so neither direction takes them.
extension Tensor {
    /// Bytes `count` elements of `type` take packed, nil for strings.
    public static func packedByteCount(of type: ElementType, count: Int) -> Int? {
        type == .string ? nil : type.packedByteCount(count)
    }

    /// The tensor of `shape` whose elements of `type` are `bytes`; nil when `type` is string or
    /// `bytes` is not exactly the size `packedByteCount(of:count:)` gives for the shape.
    public init?(shape: [Int], type: ElementType, littleEndianBytes bytes: UnsafeRawBufferPointer) {
        let count = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }), Self.packedByteCount(of: type, count: count) == bytes.count else { return nil }
        self.init(shape: shape, storage: TensorStorage(type: type, littleEndianBytes: bytes, count: count))
    }

    /// The elements packed little-endian; nil for a string tensor.
    public var littleEndianBytes: Data? {
        elementType == .string ? nil : storage.littleEndianBytes
    }
}
