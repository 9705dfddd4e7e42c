import Foundation

// JSON bodies of the Open Inference Protocol (KServe v2) REST API, the subset the agent serves.

struct InferenceRequestBody: Decodable, Sendable {
    var id: String?
    var parameters: [String: ParameterValue]?
    var inputs: [TensorPayload]
    var outputs: [RequestedOutput]?

    struct RequestedOutput: Decodable, Sendable {
        var name: String
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

/// An input tensor as OIP JSON carries it: row-major data, flat or nested.
struct TensorPayload: Decodable, Sendable {
    var name: String
    var shape: [Int]
    var datatype: String
    var data: FlatNumbers
}

/// An output tensor, its data written in the tensor's own type (no float widening noise).
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

    var name: String
    var shape: [Int]
    var datatype: String
    var data: Values
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

/// Request parameters: the agent reads `label` (an integer, or one integer per row).
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
}

/// Numbers of a tensor's `data`, flattened in row-major order whether the JSON nests them or not.
struct FlatNumbers: Decodable, Sendable {
    var values: [Double]

    init(_ values: [Double]) {
        self.values = values
    }

    init(from decoder: any Decoder) throws {
        var values: [Double] = []
        var container = try decoder.unkeyedContainer()
        try Self.flatten(&container, into: &values)
        self.values = values
    }

    private static func flatten(_ container: inout any UnkeyedDecodingContainer, into values: inout [Double]) throws {
        values.reserveCapacity(container.count ?? 0)
        while !container.isAtEnd {
            if let number = try? container.decode(Double.self) {
                values.append(number)
            } else if let flag = try? container.decode(Bool.self) {
                values.append(flag ? 1 : 0)
            } else {
                var nested = try container.nestedUnkeyedContainer()
                try flatten(&nested, into: &values)
            }
        }
    }
}
