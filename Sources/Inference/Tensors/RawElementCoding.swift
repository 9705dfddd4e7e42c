import Foundation

/// Little-endian packed element bytes, the layout of ONNX `raw_data` and of .npy payloads.
/// The supported hosts (x86-64, arm64) are little-endian, so elements are copied as they are.
extension TensorStorage {
    /// Decodes `count` elements of `type`; the caller has checked that `bytes` holds exactly that many.
    init(type: ElementType, littleEndianBytes bytes: UnsafeRawBufferPointer, count: Int) {
        precondition(bytes.count == type.packedByteCount(count), "element bytes do not match the element count")
        switch type {
        case .float32: self = .float32(Self.copy(bytes, count: count))
        case .float16: self = .float16(Self.copy(bytes, count: count, as: UInt16.self).map { Float(Float16(bitPattern: $0)) })
        case .bfloat16: self = .bfloat16(Self.copy(bytes, count: count, as: UInt16.self).map { Float(bitPattern: UInt32($0) << 16) })
        case .float64: self = .float64(Self.copy(bytes, count: count))
        case .int8: self = .int8(Self.copy(bytes, count: count))
        case .uint8: self = .uint8(Self.copy(bytes, count: count))
        case .int16: self = .int16(Self.copy(bytes, count: count))
        case .uint16: self = .uint16(Self.copy(bytes, count: count))
        case .int32: self = .int32(Self.copy(bytes, count: count))
        case .uint32: self = .uint32(Self.copy(bytes, count: count))
        case .int64: self = .int64(Self.copy(bytes, count: count))
        case .uint64: self = .uint64(Self.copy(bytes, count: count))
        case .bool: self = .bool(Self.copy(bytes, count: count, as: UInt8.self).map { $0 != 0 })
        case .int4: self = .int4(Self.unpacked(bytes, count: count, bits: 4).map { Int8(bitPattern: $0 << 4) >> 4 })
        case .uint4: self = .uint4(Self.unpacked(bytes, count: count, bits: 4))
        case .int2: self = .int2(Self.unpacked(bytes, count: count, bits: 2).map { Int8(bitPattern: $0 << 6) >> 6 })
        case .uint2: self = .uint2(Self.unpacked(bytes, count: count, bits: 2))
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0, .float4e2m1:
            let format = type.smallFloatFormat!
            self = .smallFloat(format, Self.unpacked(bytes, count: count, bits: format.bitWidth).map(format.value(ofCode:)))
        case .string:
            preconditionFailure("strings have no fixed-width bytes: ONNX and .npy code them on their own")
        }
    }

    /// The elements as little-endian bytes (float16 as IEEE half bits, bfloat16 as the upper half of
    /// an FP32, bool as 0/1).
    var littleEndianBytes: Data {
        switch self {
        case .float32(let values): Self.bytes(of: values)
        case .float16(let values): Self.bytes(of: values.map { Float16($0).bitPattern })
        case .bfloat16(let values): Self.bytes(of: values.map { UInt16($0.bitPattern >> 16) })
        case .float64(let values): Self.bytes(of: values)
        case .int8(let values): Self.bytes(of: values)
        case .uint8(let values): Data(values)
        case .int16(let values): Self.bytes(of: values)
        case .uint16(let values): Self.bytes(of: values)
        case .int32(let values): Self.bytes(of: values)
        case .uint32(let values): Self.bytes(of: values)
        case .int64(let values): Self.bytes(of: values)
        case .uint64(let values): Self.bytes(of: values)
        case .bool(let values): Data(values.map { $0 ? 1 : 0 })
        case .int4(let values): Self.packed(values.map { UInt8(bitPattern: $0) }, bits: 4)
        case .uint4(let values): Self.packed(values, bits: 4)
        case .int2(let values): Self.packed(values.map { UInt8(bitPattern: $0) }, bits: 2)
        case .uint2(let values): Self.packed(values, bits: 2)
        case .smallFloat(let format, let values) where format.bitWidth < 8: Self.packed(values.map(format.code(of:)), bits: format.bitWidth)
        case .smallFloat(let format, let values): Data(values.map(format.code(of:)))
        case .string: preconditionFailure("strings have no fixed-width bytes: ONNX and .npy code them on their own")
        }
    }

    /// Elements of `bits` bits (8 / bits to a byte, the first in the lowest bits: ONNX's INT4, INT2
    /// and FLOAT4 layout), one per byte; 8 bits are the bytes themselves.
    private static func unpacked(_ bytes: UnsafeRawBufferPointer, count: Int, bits: Int) -> [UInt8] {
        let perByte = 8 / bits, mask = UInt8((1 << bits) - 1)
        return (0..<count).map { index in (bytes[index / perByte] >> ((index % perByte) * bits)) & mask }
    }

    private static func packed(_ values: [UInt8], bits: Int) -> Data {
        let perByte = 8 / bits, mask = UInt8((1 << bits) - 1)
        var packed = Data(count: (values.count + perByte - 1) / perByte)
        for (index, value) in values.enumerated() {
            packed[index / perByte] |= (value & mask) << ((index % perByte) * bits)
        }
        return packed
    }

    private static func copy<T: BitwiseCopyable>(_ bytes: UnsafeRawBufferPointer, count: Int, as _: T.Type = T.self) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
            }
            initialized = count
        }
    }

    private static func bytes<T: BitwiseCopyable>(of values: [T]) -> Data {
        values.withUnsafeBytes { Data($0) }
    }
}
