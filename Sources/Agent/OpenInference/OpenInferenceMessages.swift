import Foundation

// JSON bodies of the Open Inference Protocol (KServe v2) REST API, the subset the agent serves.

struct InferenceRequestBody: Decodable, Sendable {
    var id: String?
    var parameters: [String: ParameterValue]?
    var inputs: [TensorPayload]
    var outputs: [RequestedOutput]?

    struct RequestedOutput: Decodable, Sendable {
        var name: String
        var parameters: [String: ParameterValue]?
    }

    /// The request whose whole body is JSON (or, with the binary tensor data extension, its JSON header).
    init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(Self.self, from: json)
        } catch let error as DecodingError {
            throw InferenceRequestError(description: "the body is not an OIP infer request: \(error.requestDescription)")
        }
    }
}

struct InferenceResponseBody: Encodable, Sendable {
    var modelName: String
    var modelVersion: String
    var id: String?
    var outputs: [OutputTensor]

    enum CodingKeys: String, CodingKey {
        case modelName = "model_name", modelVersion = "model_version", id, outputs
    }
}

/// An input tensor as the request carries it: its data in the JSON, or (binary tensor data
/// extension) `binary_data_size` bytes after the JSON header, attached by `BinaryTensorRequest`.
struct TensorPayload: Decodable, Sendable {
    var name: String
    var shape: [Int]
    var datatype: String
    var parameters: [String: ParameterValue]?
    var data: TensorContents?

    var binaryDataSize: Int? { parameters?["binary_data_size"]?.integers?.first }
}

/// A tensor's elements as they arrived: JSON numbers or strings (row-major, flat or nested), or
/// the raw bytes of the binary tensor data extension.
enum TensorContents: Decodable, Sendable {
    case numbers([Double])
    case texts([String])
    case binary(Data)

    init(from decoder: any Decoder) throws {
        var numbers: [Double] = []
        var texts: [String] = []
        var container = try decoder.unkeyedContainer()
        numbers.reserveCapacity(container.count ?? 0)
        try Self.flatten(&container, numbers: &numbers, texts: &texts)
        guard numbers.isEmpty || texts.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "data mixes numbers and strings"))
        }
        self = texts.isEmpty ? .numbers(numbers) : .texts(texts)
    }

    private static func flatten(_ container: inout any UnkeyedDecodingContainer, numbers: inout [Double], texts: inout [String]) throws {
        while !container.isAtEnd {
            if let number = try? container.decode(Double.self) {
                numbers.append(number)
            } else if let flag = try? container.decode(Bool.self) {
                numbers.append(flag ? 1 : 0)
            } else if let text = try? container.decode(String.self) {
                texts.append(text)
            } else {
                var nested = try container.nestedUnkeyedContainer()
                try flatten(&nested, numbers: &numbers, texts: &texts)
            }
        }
    }
}

/// An output tensor: its data in the JSON, written in the tensor's own type (no float widening
/// noise), or its size in `parameters.binary_data_size` when its bytes follow the JSON.
struct OutputTensor: Encodable, Sendable {
    enum Values: Encodable, Sendable {
        case floats([Float])
        case integers([Int64])
        case flags([Bool])
        case texts([String])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .floats(let values): try container.encode(values)
            case .integers(let values): try container.encode(values)
            case .flags(let values): try container.encode(values)
            case .texts(let values): try container.encode(values)
            }
        }
    }

    struct Parameters: Encodable, Sendable {
        var binaryDataSize: Int

        enum CodingKeys: String, CodingKey { case binaryDataSize = "binary_data_size" }
    }

    var name: String
    var shape: [Int]
    var datatype: String
    var parameters: Parameters?
    var data: Values?
}

struct ServerMetadataBody: Encodable, Sendable {
    var name: String
    var version: String
    var extensions: [String]
}

struct ModelMetadataBody: Encodable, Sendable {
    struct TensorMetadata: Encodable, Sendable {
        var name: String
        var datatype: String
        var shape: [Int]   // -1 for a dynamic dimension
    }

    var name: String
    var versions: [String]
    var platform: String
    var inputs: [TensorMetadata]
    var outputs: [TensorMetadata]
}

struct ServerErrorBody: Encodable, Sendable {
    var error: String
}

/// Request, input and output parameters: the agent reads `label` (an integer, or one integer per
/// row) and the binary tensor data extension's `binary_data_size`, `binary_data` and `binary_data_output`.
enum ParameterValue: Decodable, Sendable {
    case integer(Int)
    case integers([Int])
    case number(Double)
    case text(String)
    case flag(Bool)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode([Int].self) {
            self = .integers(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .flag(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else {
            self = .other
        }
    }

    var integers: [Int]? {
        switch self {
        case .integer(let value): [value]
        case .integers(let values): values
        case .text(let text): Int(text).map { [$0] }
        default: nil
        }
    }

    var flag: Bool? {
        if case .flag(let value) = self { value } else { nil }
    }
}

extension DecodingError {
    /// What is wrong and where, in the request's own terms (`inputs[0].shape`).
    var requestDescription: String {
        func path(_ keys: [any CodingKey]) -> String {
            String(keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix("."))
        }
        switch self {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "not valid JSON (\(context.debugDescription)); binary tensor data needs the Inference-Header-Content-Length header"
        case .dataCorrupted(let context):
            return "`\(path(context.codingPath))`: \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "`\(path(context.codingPath + [key]))` is missing"
        case .valueNotFound(let type, let context):
            return "`\(path(context.codingPath))` is null, expected \(type)"
        case .typeMismatch(let type, let context):
            return "`\(path(context.codingPath))` is not \(type)"
        @unknown default:
            return "\(self)"
        }
    }
}
