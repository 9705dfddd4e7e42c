import Foundation
import Inference

/// Why an infer request was refused; each names the tensor and what is wrong with it.
struct InferenceRequestError: Error, CustomStringConvertible {
    let description: String
}

/// OIP datatypes ("FP32", "INT64", "BYTES", ...) and the engine's element types.
enum OIPDatatype {
    private static let elementTypes: [String: ElementType] = [
        "BOOL": .bool, "UINT8": .uint8, "UINT16": .uint16, "UINT32": .uint32, "UINT64": .uint64,
        "INT8": .int8, "INT16": .int16, "INT32": .int32, "INT64": .int64,
        "FP16": .float16, "BF16": .bfloat16, "FP32": .float32, "FP64": .float64, "BYTES": .string,
    ]

    /// The element type a datatype's values arrive in; nil for a name OIP does not define.
    static func elementType(named name: String) -> ElementType? { elementTypes[name] }

    static func name(of type: ElementType) -> String {
        switch type {
        case .float32: "FP32"
        case .float16: "FP16"
        case .string: "BYTES"
        case .bfloat16: "BF16"
        case .float64: "FP64"
        case .int16: "INT16"
        case .uint16: "UINT16"
        case .uint32: "UINT32"
        case .uint64: "UINT64"
        // OIP has no 4- or 2-bit types, nor float8 or float4: their values travel as the 8-bit
        // integers and FP32, which hold them exactly.
        case .int8, .int4, .int2: "INT8"
        case .uint8, .uint4, .uint2: "UINT8"
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0, .float4e2m1: "FP32"
        case .int32: "INT32"
        case .int64: "INT64"
        case .bool: "BOOL"
        }
    }

    /// `tensor` in the element type its OIP datatype names (an INT4 tensor as INT8, ...), so that
    /// its binary data has the datatype's width.
    static func onWire(_ tensor: Tensor) throws -> Tensor {
        let wireType = elementTypes[name(of: tensor.elementType)]!
        return wireType == tensor.elementType ? tensor : try tensor.converted(to: wireType)
    }
}

extension TensorPayload {
    /// The tensor in the type the model declares for this input, after checking datatype, shape and data.
    func tensor(for input: TensorInfo) throws -> Tensor {
        guard let type = OIPDatatype.elementType(named: datatype) else {
            throw InferenceRequestError(description: "input '\(name)': unknown datatype '\(datatype)'")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw InferenceRequestError(description: "input '\(name)': negative dimension in shape \(shape)")
        }
        guard shape.count == input.shape.count,
              zip(shape, input.shape).allSatisfy({ actual, declared in declared.map { $0 == actual } ?? true })
        else {
            let declared = input.shape.map { $0.map(String.init) ?? "?" }
            throw InferenceRequestError(description: "input '\(name)': shape \(shape) does not fit the model's [\(declared.joined(separator: ", "))]")
        }
        guard (type == .string) == (input.elementType == .string) else {
            throw InferenceRequestError(
                description: "input '\(name)': datatype \(datatype) does not match the model's \(OIPDatatype.name(of: input.elementType))")
        }
        let tensor = try received(as: type)
        guard tensor.elementType != input.elementType else { return tensor }
        if !input.elementType.isFloatingPoint, tensor.elementType.isFloatingPoint,
           !tensor.floats.allSatisfy({ $0.rounded() == $0 })
        {
            throw InferenceRequestError(description: "input '\(name)': the model wants integers, data has fractions")
        }
        do {
            return try tensor.converted(to: input.elementType)
        } catch {
            throw InferenceRequestError(description: "input '\(name)': \(error)")
        }
    }

    /// The tensor in the request's own datatype.
    private func received(as type: ElementType) throws -> Tensor {
        let count = shape.reduce(1, *)
        switch data {
        case .binary(let bytes):
            return try BinaryTensorData.tensor(named: name, shape: shape, type: type, datatype: datatype, bytes: bytes)
        case .texts(let texts) where type == .string:
            guard texts.count == count else {
                throw InferenceRequestError(description: "input '\(name)': shape \(shape) needs \(count) strings, data has \(texts.count)")
            }
            return Tensor(shape: shape, strings: texts)
        case .numbers(let values) where type == .string && values.isEmpty && count == 0:
            return Tensor(shape: shape, strings: [])
        case .numbers(let values) where type != .string:
            guard values.count == count else {
                throw InferenceRequestError(description: "input '\(name)': shape \(shape) needs \(count) values, data has \(values.count)")
            }
            return try numbers(values, as: type)
        case .texts, .numbers:
            throw InferenceRequestError(
                description: "input '\(name)': datatype \(datatype) takes \(type == .string ? "strings" : "numbers"), data has \(type == .string ? "numbers" : "strings")")
        case nil where parameters?["shared_memory_region"] != nil:
            throw InferenceRequestError(description: "input '\(name)': the shared memory extension is not supported")
        case nil where binaryDataSize != nil:
            throw InferenceRequestError(
                description: "input '\(name)' gives binary_data_size but the request has no Inference-Header-Content-Length header")
        case nil:
            throw InferenceRequestError(description: "input '\(name)' has no data and no binary_data_size")
        }
    }

    private func numbers(_ values: [Double], as type: ElementType) throws -> Tensor {
        do {
            switch type {
            case .float64:
                return values.withUnsafeBytes { Tensor(shape: shape, type: .float64, littleEndianBytes: $0)! }
            case let type where type.isFloatingPoint:
                return try Tensor(shape: shape, floats: values.map { Float($0) }).converted(to: type)
            default:
                guard values.allSatisfy({ $0.rounded() == $0 && abs($0) < 9.0e15 }) else {
                    throw InferenceRequestError(description: "input '\(name)': datatype \(datatype) takes integers, data has fractions")
                }
                return try Tensor(shape: shape, int64s: values.map { Int64($0) }).converted(to: type)
            }
        } catch let error as InferenceError {
            throw InferenceRequestError(description: "input '\(name)': \(error)")
        }
    }
}

extension OutputTensor {
    /// `tensor` with its data in the JSON.
    init(name: String, tensor: Tensor) throws {
        let wire = try OIPDatatype.onWire(tensor)
        self.init(name: name, shape: wire.shape, datatype: OIPDatatype.name(of: wire.elementType))
        switch wire.elementType {
        case let type where type.isFloatingPoint: data = .floats(wire.floats)
        case .bool: data = .flags(wire.int64s.map { $0 != 0 })
        case .string: data = .texts(wire.strings ?? [])
        default: data = .integers(wire.int64s)
        }
    }

    /// `tensor` announced with its binary data size; `bytes` are what follow the JSON header for it.
    static func binary(name: String, tensor: Tensor) throws -> (header: OutputTensor, bytes: Data) {
        let wire = try OIPDatatype.onWire(tensor)
        let bytes = BinaryTensorData.bytes(of: wire)
        let header = OutputTensor(
            name: name, shape: wire.shape, datatype: OIPDatatype.name(of: wire.elementType),
            parameters: .init(binaryDataSize: bytes.count))
        return (header, bytes)
    }
}
