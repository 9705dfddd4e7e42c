import Foundation
import Hummingbird
import Inference
import NIOCore

/// An infer answer on the wire: JSON alone, or (binary tensor data extension, when any output is
/// asked for as binary) the JSON header, its length in `Inference-Header-Content-Length`, followed
/// by the binary outputs' bytes in the order of `outputs`.
struct InferenceResponseEncoding {
    let json: Data
    let binary: Data
    let headerLength: Int?

    /// `outputs` in order, each binary or JSON as asked.
    init(modelName: String, modelVersion: String, id: String?, outputs: [(name: String, tensor: Tensor, binary: Bool)]) throws {
        var headers: [OutputTensor] = []
        var binary = Data()
        for output in outputs {
            if output.binary {
                let (header, bytes) = try OutputTensor.binary(name: output.name, tensor: output.tensor)
                headers.append(header)
                binary.append(bytes)
            } else {
                headers.append(try OutputTensor(name: output.name, tensor: output.tensor))
            }
        }
        json = try JSONEncoder().encode(
            InferenceResponseBody(modelName: modelName, modelVersion: modelVersion, id: id, outputs: headers))
        self.binary = binary
        headerLength = outputs.contains(where: \.binary) ? json.count : nil
    }

    var response: Response {
        var fields: HTTPFields = [.contentType: headerLength == nil ? "application/json" : "application/octet-stream"]
        if let headerLength {
            fields[BinaryTensorRequest.headerLengthField] = String(headerLength)
        }
        var body = ByteBuffer(bytes: json)
        body.writeBytes(binary)
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: body))
    }
}
