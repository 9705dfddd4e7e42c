import Foundation
import Hummingbird

/// A refused request, answered as the Open Inference Protocol specifies: the status and a body
/// `{"error": "<message>"}` (Hummingbird's own errors nest the message one level deeper).
struct OIPError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(ServerErrorBody(error: message), from: request, context: context)
        response.status = status
        return response
    }
}

extension Request {
    /// The whole body; one larger than the server takes is refused with 413, in the OIP's words.
    func collectedBody(_ context: BasicRequestContext) async throws -> Data {
        do {
            return Data(try await body.collect(upTo: context.maxUploadSize).readableBytesView)
        } catch {
            throw OIPError(.contentTooLarge, "the body is larger than \(context.maxUploadSize) bytes")
        }
    }
}
