import Foundation
import HTTPTypes

/// The parser of infer requests in the binary tensor data extension: the first
/// `Inference-Header-Content-Length` bytes of the body are the JSON request, and the rest is the
/// bytes of each input whose parameters give `binary_data_size`, in the order of `inputs`.
enum BinaryTensorRequest {
    static let headerLengthField = HTTPField.Name("Inference-Header-Content-Length")!

    static func parse(_ body: Data, headerLength field: String) throws -> InferenceRequestBody {
        guard let headerLength = Int(field), headerLength >= 0 else {
            throw InferenceRequestError(description: "\(headerLengthField.rawName) '\(field)' is not a byte count")
        }
        guard headerLength <= body.count else {
            throw InferenceRequestError(
                description: "\(headerLengthField.rawName) is \(headerLength) bytes, past the end of the \(body.count)-byte body")
        }
        var request = try InferenceRequestBody(json: body.prefix(headerLength))
        var offset = body.startIndex + headerLength
        for index in request.inputs.indices {
            let input = request.inputs[index]
            guard let size = input.binaryDataSize else { continue }
            guard input.data == nil else {
                throw InferenceRequestError(description: "input '\(input.name)' has both JSON data and binary_data_size")
            }
            guard size >= 0, size <= body.endIndex - offset else {
                throw InferenceRequestError(
                    description: "input '\(input.name)': binary_data_size \(size) runs past the body, which has \(body.endIndex - offset) bytes left for it")
            }
            request.inputs[index].data = .binary(body[offset..<offset + size])
            offset += size
        }
        guard offset == body.endIndex else {
            throw InferenceRequestError(
                description: "\(body.endIndex - offset) bytes follow the JSON header and the inputs' binary_data_size bytes; the sizes must add up to the body")
        }
        return request
    }
}
