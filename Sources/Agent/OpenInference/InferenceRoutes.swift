import DaemonSupport
import FleetProtocol
import Foundation
import Hummingbird
import Inference

/// The Open Inference Protocol (KServe v2) REST surface: server and model metadata, health and
/// infer, with the binary tensor data extension, for every model name served
/// (`OpenInferenceService` answers; this carries it over HTTP).
struct InferenceRoutes: Sendable {
    let service: OpenInferenceService

    func register(on router: Router<BasicRequestContext>) {
        MetricsEndpoint.register(service.metrics.registry, on: router)
        router.get("/v2") { _, _ in service.serverMetadata }
        router.get("/v2/health/live") { _, _ in HTTPResponse.Status.ok }
        router.get("/v2/health/ready") { _, _ in service.isReady ? HTTPResponse.Status.ok : .serviceUnavailable }
        for model in ["/v2/models/:name", "/v2/models/:name/versions/:version"] {
            router.get(RouterPath(model)) { _, context in
                service.metadata(of: try active(for: context))
            }
            router.get(RouterPath("\(model)/ready")) { _, context in
                _ = try active(for: context)
                return HTTPResponse.Status.ok
            }
            router.post(RouterPath("\(model)/infer")) { request, context in
                let active = try active(for: context)
                let body = try await request.collectedBody(context)
                do {
                    let headerLength = request.headers[BinaryTensorRequest.headerLengthField]
                    let parsed = try headerLength.map { try BinaryTensorRequest.parse(body, headerLength: $0) }
                        ?? InferenceRequestBody(json: body)
                    let answer = try service.infer(parsed, on: active)
                    return try InferenceResponseEncoding(
                        modelName: answer.modelName, modelVersion: answer.modelVersion, id: answer.id,
                        outputs: answer.outputs.map { ($0.name, $0.tensor, $0.binary) }
                    ).response
                } catch let error as InferenceRequestError {
                    throw OIPError(.badRequest, error.description)
                }
            }
        }
    }

    private func active(for context: BasicRequestContext) throws -> ServingState.Active {
        try service.active(named: try context.parameters.require("name"), version: context.parameters.get("version"))
    }
}

extension ServerMetadataBody: ResponseEncodable {}
extension ModelMetadataBody: ResponseEncodable {}
