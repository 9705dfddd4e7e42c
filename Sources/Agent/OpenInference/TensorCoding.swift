import Inference

/// Why an infer request was refused; each names the tensor and what is wrong with it.
struct InferenceRequestError: Error, CustomStringConvertible {
    let description: String
}

/// OIP datatypes ("FP32", "INT64", ...) and the engine's element types.
enum OIPDatatype {
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

    static let known: Set<String> = ["FP16", "BF16", "FP32", "FP64", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "UINT64", "BOOL"]
}

extension TensorPayload {
    /// The tensor in the type the model declares for this input, after checking shape and data.
    func tensor(for input: TensorInfo) throws -> Tensor {
        guard OIPDatatype.known.contains(datatype) else {
            throw InferenceRequestError(description: "input '\(name)': unknown datatype '\(datatype)'")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw InferenceRequestError(description: "input '\(name)': negative dimension in shape \(shape)")
        }
        let expectedCount = shape.reduce(1, *)
        guard expectedCount == data.values.count else {
            throw InferenceRequestError(
                description: "input '\(name)': shape \(shape) needs \(expectedCount) values, data has \(data.values.count)")
        }
        guard shape.count == input.shape.count,
              zip(shape, input.shape).allSatisfy({ actual, declared in declared.map { $0 == actual } ?? true })
        else {
            let declared = input.shape.map { $0.map(String.init) ?? "?" }
            throw InferenceRequestError(description: "input '\(name)': shape \(shape) does not fit the model's [\(declared.joined(separator: ", "))]")
        }
        switch input.elementType {
        case .string:
            throw InferenceRequestError(description: "input '\(name)': BYTES (string) inputs are not accepted over JSON yet")
        case .float32, .float16, .bfloat16, .float64, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0, .float4e2m1:
            return try Tensor(shape: shape, floats: data.values.map { Float($0) }).converted(to: input.elementType)
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .bool, .int4, .uint4, .int2, .uint2:
            guard data.values.allSatisfy({ $0.rounded() == $0 && abs($0) < 9.0e15 }) else {
                throw InferenceRequestError(description: "input '\(name)': the model wants integers, data has fractions")
            }
            return try Tensor(shape: shape, int64s: data.values.map { Int64($0) }).converted(to: input.elementType)
        }
    }
}

extension OutputTensor {
    init(name: String, tensor: Tensor) {
        self.name = name
        shape = tensor.shape
        datatype = OIPDatatype.name(of: tensor.elementType)
        switch tensor.elementType {
        case let type where type.isFloatingPoint: data = .floats(tensor.floats)
        case .bool: data = .flags(tensor.int64s.map { $0 != 0 })
        case .string: data = .texts(tensor.strings ?? [])
        default: data = .integers(tensor.int64s)
        }
    }
}
