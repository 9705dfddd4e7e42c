import DaemonSupport
import FleetProtocol
import Foundation
import Hummingbird
import Inference

/// The Open Inference Protocol (KServe v2) REST surface: server and model metadata, health and
/// infer, with the binary tensor data extension, for every model name served. The name's primary
/// model answers (the reference, or the candidate once promoted); a sampled copy of the request goes
/// to the name's shadow queue, never waited on.
struct InferenceRoutes: Sendable {
    let state: ServingState
    let queues: ShadowQueues
    let metrics: AgentMetrics

    static let extensions = ["binary_tensor_data"]

    func register(on router: Router<BasicRequestContext>) {
        MetricsEndpoint.register(metrics.registry, on: router)
        router.get("/v2") { _, _ in
            ServerMetadataBody(name: "quantfleet-agent", version: AgentApp.version, extensions: Self.extensions)
        }
        router.get("/v2/health/live") { _, _ in HTTPResponse.Status.ok }
        router.get("/v2/health/ready") { _, _ in state.names.isEmpty ? HTTPResponse.Status.serviceUnavailable : .ok }
        // A version is the primary model's SHA-256, the one `versions` in the metadata lists.
        for model in ["/v2/models/:name", "/v2/models/:name/versions/:version"] {
            router.get(RouterPath(model)) { _, context in
                metadata(of: try active(for: context))
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
                    return try infer(parsed, on: active).response
                } catch let error as InferenceRequestError {
                    throw OIPError(.badRequest, error.description)
                }
            }
        }
    }

    private func active(for context: BasicRequestContext) throws -> ServingState.Active {
        let name = try context.parameters.require("name")
        guard let active = state.active(named: name) else {
            let served = state.names
            guard !served.isEmpty else {
                throw OIPError(.serviceUnavailable, "no model loaded yet: waiting for the coordinator's assignment")
            }
            throw OIPError(.notFound, "unknown model '\(name)'; this agent serves \(served.map { "'\($0)'" }.joined(separator: ", "))")
        }
        if let version = context.parameters.get("version"), version != primarySHA256(active) {
            throw OIPError(.notFound, "model '\(name)' has no version '\(version)' here; this agent serves version \(primarySHA256(active))")
        }
        return active
    }

    private func metadata(of active: ServingState.Active) -> ModelMetadataBody {
        func describe(_ info: TensorInfo) -> ModelMetadataBody.TensorMetadata {
            .init(name: info.name, datatype: OIPDatatype.name(of: info.elementType), shape: info.shape.map { $0 ?? -1 })
        }
        let primary = active.primary
        return ModelMetadataBody(
            name: active.assignment.modelName, versions: [primarySHA256(active)], platform: "onnx",
            inputs: primary.inputs.map(describe), outputs: primary.outputs.map(describe))
    }

    private func primarySHA256(_ active: ServingState.Active) -> String {
        active.primaryIsCandidate ? active.assignment.candidate.sha256 : active.assignment.reference.sha256
    }

    private func infer(_ body: InferenceRequestBody, on active: ServingState.Active) throws -> InferenceResponseEncoding {
        let primary = active.primary
        let requested = try OutputSelection(body, outputs: primary.outputs.map(\.name))
        var feeds: [String: Tensor] = [:]
        for payload in body.inputs {
            guard let input = primary.inputs.first(where: { $0.name == payload.name }) else {
                throw InferenceRequestError(description: "unknown input '\(payload.name)'; the model takes \(primary.inputs.map(\.name))")
            }
            feeds[payload.name] = try payload.tensor(for: input)
        }
        let started = ContinuousClock.now
        let outputs: [String: Tensor]
        do {
            outputs = try primary.run(feeds)
        } catch {
            throw InferenceRequestError(description: "inference failed: \(error)")
        }
        let latency = Int(started.duration(to: .now) / .microseconds(1))
        metrics.requests.increment()
        metrics.primaryLatency.record(.microseconds(latency))

        // Every answer has an id, the caller's or a new one: a label sent later names it (`/v2/labels`).
        let requestID = body.id ?? UUID().uuidString
        if active.shadowed != nil, let compared = outputs[active.comparedOutput],
           Double.random(in: 0..<1) < active.assignment.samplingRate
        {
            queues.queue(for: active.assignment.modelName).offer(ShadowSample(
                assignmentID: active.assignment.assignmentID, feeds: feeds, primaryOutput: compared,
                labels: body.parameters?["label"]?.integers, requestID: requestID, primaryLatencyMicros: latency))
        }
        return try InferenceResponseEncoding(
            modelName: active.assignment.modelName, modelVersion: primarySHA256(active), id: requestID,
            outputs: primary.outputs.compactMap { info -> (name: String, tensor: Tensor, binary: Bool)? in
                guard let binary = requested.binary[info.name], let tensor = outputs[info.name] else { return nil }
                return (info.name, tensor, binary)
            })
    }
}

extension ServerMetadataBody: ResponseEncodable {}
extension ModelMetadataBody: ResponseEncodable {}
