import Foundation

/// Conversion between ONNX `TensorProto` and `Tensor`; public because the quantizer rewrites initializers.
extension Tensor {
    /// Decodes an initializer; float16 data keeps its half-precision values in FP32 storage.
    public init(onnxTensor proto: Onnx_TensorProto) throws {
        let name = proto.name
        if proto.dataLocation == .external {
            throw InferenceError.malformedModel("tensor '\(name)' keeps its data in an external file, which is not supported")
        }
        guard let type = ElementType(onnxDataType: proto.dataType) else {
            throw InferenceError.unsupportedElementType(onnxDataType: proto.dataType, tensor: name)
        }
        guard proto.dims.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.malformedModel("tensor '\(name)' has a negative dimension in \(proto.dims)")
        }
        let shape = proto.dims.map { Int($0) }
        guard let count = StaticShapes.elementCount(shape) else {
            throw InferenceError.malformedModel("tensor '\(name)' has too many elements: \(shape)")
        }

        if type == .string {
            guard proto.stringData.count == count else {
                throw InferenceError.malformedModel("tensor '\(name)' has \(proto.stringData.count) strings, shape \(shape) needs \(count)")
            }
            self.init(shape: shape, storage: .string(proto.stringData.map { String(decoding: $0, as: UTF8.self) }))
            return
        }
        if proto.hasRawData {
            guard proto.rawData.count == type.packedByteCount(count) else {
                throw InferenceError.malformedModel(
                    "tensor '\(name)' has \(proto.rawData.count) bytes of raw data, shape \(shape) of \(type.rawValue) needs \(type.packedByteCount(count))")
            }
            let storage = proto.rawData.withUnsafeBytes { TensorStorage(type: type, littleEndianBytes: $0, count: count) }
            self.init(shape: shape, storage: storage)
            return
        }
        let available = Self.typedFieldCount(of: proto, type: type)
        // 4- and 2-bit elements come packed into int32_data entries, a byte each, as in raw data.
        let needed = type.packedBits != nil ? type.packedByteCount(count) : count
        guard available == needed else {
            throw InferenceError.malformedModel("tensor '\(name)' has \(available) values, shape \(shape) of \(type.rawValue) needs \(needed)")
        }
        let storage: TensorStorage = switch type {
        case .float32: .float32(proto.floatData)
        case .float16: .float16(proto.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) })
        case .bfloat16: .bfloat16(proto.int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) })
        case .float64: .float64(proto.doubleData)
        case .int8: .int8(proto.int32Data.map { Int8(truncatingIfNeeded: $0) })
        case .uint8: .uint8(proto.int32Data.map { UInt8(truncatingIfNeeded: $0) })
        case .int16: .int16(proto.int32Data.map { Int16(truncatingIfNeeded: $0) })
        case .uint16: .uint16(proto.int32Data.map { UInt16(truncatingIfNeeded: $0) })
        case .int32: .int32(proto.int32Data)
        case .uint32: .uint32(proto.uint64Data.map { UInt32(truncatingIfNeeded: $0) })
        case .int64: .int64(proto.int64Data)
        case .uint64: .uint64(proto.uint64Data)
        case .string: .string(proto.stringData.map { String(decoding: $0, as: UTF8.self) })
        case .bool: .bool(proto.int32Data.map { $0 != 0 })
        // Packed types and float8 codes: one byte per int32_data entry.
        case .int4, .uint4, .int2, .uint2, .float4e2m1, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0:
            proto.int32Data.map { UInt8(truncatingIfNeeded: $0) }.withUnsafeBytes {
                TensorStorage(type: type, littleEndianBytes: $0, count: count)
            }
        }
        self.init(shape: shape, storage: storage)
    }

    /// Encodes as an ONNX initializer with packed `raw_data`.
    public func onnxTensor(named name: String) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = shape.map { Int64($0) }
        proto.dataType = elementType.onnxDataType
        if case .string(let values) = storage {
            proto.stringData = values.map { Data($0.utf8) }
        } else {
            proto.rawData = storage.littleEndianBytes
        }
        return proto
    }

    private static func typedFieldCount(of proto: Onnx_TensorProto, type: ElementType) -> Int {
        switch type {
        case .float32: proto.floatData.count
        case .int64: proto.int64Data.count
        case .float64: proto.doubleData.count
        case .uint32, .uint64: proto.uint64Data.count
        case .string: proto.stringData.count
        default: proto.int32Data.count
        }
    }
}
