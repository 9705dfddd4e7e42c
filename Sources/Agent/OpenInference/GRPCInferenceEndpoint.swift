import Foundation
import GRPCCore
import OpenInferenceGRPC

/// The Open Inference Protocol's gRPC service (`inference.GRPCInferenceService`): the same answers
/// as the REST routes, from `OpenInferenceService`, with its refusals as gRPC status codes. Outputs
/// travel in `raw_output_contents`, as KServe and Triton servers send them.
struct GRPCInferenceEndpoint: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let service: OpenInferenceService

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        .with { $0.live = true }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        .with { $0.ready = service.isReady }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        .with { $0.ready = (try? service.active(named: request.name, version: request.version)) != nil }
    }

    func serverMetadata(
        request: Inference_ServerMetadataRequest, context: ServerContext
    ) async throws -> Inference_ServerMetadataResponse {
        let metadata = service.serverMetadata
        return .with {
            $0.name = metadata.name
            $0.version = metadata.version
            $0.extensions = metadata.extensions
        }
    }

    func modelMetadata(
        request: Inference_ModelMetadataRequest, context: ServerContext
    ) async throws -> Inference_ModelMetadataResponse {
        let metadata = service.metadata(of: try refusing { try service.active(named: request.name, version: request.version) })
        func describe(_ tensor: ModelMetadataBody.TensorMetadata) -> Inference_ModelMetadataResponse.TensorMetadata {
            .with {
                $0.name = tensor.name
                $0.datatype = tensor.datatype
                $0.shape = tensor.shape.map(Int64.init)
            }
        }
        return .with {
            $0.name = metadata.name
            $0.versions = metadata.versions
            $0.platform = metadata.platform
            $0.inputs = metadata.inputs.map(describe)
            $0.outputs = metadata.outputs.map(describe)
        }
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        try refusing {
            let active = try service.active(named: request.modelName, version: request.modelVersion)
            let answer = try service.infer(try InferenceRequestBody(grpc: request), on: active)
            var response = Inference_ModelInferResponse.with {
                $0.modelName = answer.modelName
                $0.modelVersion = answer.modelVersion
                $0.id = answer.id
            }
            for output in answer.outputs {
                let (header, bytes) = try OutputTensor.binary(name: output.name, tensor: output.tensor)
                response.outputs.append(.with {
                    $0.name = header.name
                    $0.datatype = header.datatype
                    $0.shape = header.shape.map(Int64.init)
                })
                response.rawOutputContents.append(bytes)
            }
            return response
        }
    }

    /// `body`, with the service's refusals as the gRPC status their HTTP status stands for.
    private func refusing<Answer>(_ body: () throws -> Answer) throws -> Answer {
        do {
            return try body()
        } catch let error as OIPError {
            throw RPCError(code: Self.code(for: error.status.code), message: error.message)
        } catch let error as InferenceRequestError {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
    }

    static func code(for httpStatus: Int) -> RPCError.Code {
        switch httpStatus {
        case 400: .invalidArgument
        case 404: .notFound
        case 413: .resourceExhausted
        case 503: .unavailable
        default: .internalError
        }
    }
}
