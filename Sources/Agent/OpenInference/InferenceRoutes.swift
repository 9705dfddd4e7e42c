import DaemonSupport
import FleetProtocol
import Foundation
import Hummingbird
import Inference

/// The Open Inference Protocol (KServe v2) REST surface: health, model metadata and infer. The
/// primary model answers (the reference, or the candidate once promoted); a sampled copy of the request
/// goes to the shadow queue, never waited on.
struct InferenceRoutes: Sendable {
    let state: ServingState
    let queue: ShadowQueue
    let metrics: AgentMetrics

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v2/health/live") { _, _ in HTTPResponse.Status.ok }
        MetricsEndpoint.register(metrics.registry, on: router)
        router.get("/v2/health/ready") { _, _ in state.current == nil ? HTTPResponse.Status.serviceUnavailable : .ok }
        router.get("/v2/models/:name") { _, context in
            try metadata(of: try active(named: context.parameters.require("name")))
        }
        router.get("/v2/models/:name/ready") { _, context in
            _ = try active(named: context.parameters.require("name"))
            return HTTPResponse.Status.ok
        }
        router.post("/v2/models/:name/infer") { request, context in
            let active = try active(named: context.parameters.require("name"))
            let body: InferenceRequestBody
            do {
                body = try await request.decode(as: InferenceRequestBody.self, context: context)
            } catch {
                throw OIPError(.badRequest, "the body is not an OIP infer request: \(error)")
            }
            return try infer(body, on: active)
        }
    }

    private func active(named name: String) throws -> ServingState.Active {
        guard let active = state.current else {
            throw OIPError(.serviceUnavailable, "no model loaded yet: waiting for the coordinator's assignment")
        }
        guard active.assignment.modelName == name else {
            throw OIPError(.notFound, "unknown model '\(name)'; this agent serves '\(active.assignment.modelName)'")
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

    private func infer(_ body: InferenceRequestBody, on active: ServingState.Active) throws -> InferenceResponseBody {
        let primary = active.primary
        var feeds: [String: Tensor] = [:]
        for payload in body.inputs {
            guard let input = primary.inputs.first(where: { $0.name == payload.name }) else {
                throw OIPError(.badRequest, "unknown input '\(payload.name)'; the model takes \(primary.inputs.map(\.name))")
            }
            do {
                feeds[payload.name] = try payload.tensor(for: input)
            } catch let error as InferenceRequestError {
                throw OIPError(.badRequest, error.description)
            }
        }
        let started = ContinuousClock.now
        let outputs: [String: Tensor]
        do {
            outputs = try primary.run(feeds)
        } catch {
            throw OIPError(.badRequest, "inference failed: \(error)")
        }
        let latency = Int(started.duration(to: .now) / .microseconds(1))
        metrics.requests.increment()
        metrics.primaryLatency.record(.microseconds(latency))

        if active.shadowed != nil, let compared = outputs[active.comparedOutput],
           Double.random(in: 0..<1) < active.assignment.samplingRate
        {
            queue.offer(ShadowSample(
                assignmentID: active.assignment.assignmentID, feeds: feeds, primaryOutput: compared,
                labels: body.parameters?["label"]?.integers, primaryLatencyMicros: latency))
        }
        let wanted = body.outputs.map { Set($0.map(\.name)) }
        return InferenceResponseBody(
            modelName: active.assignment.modelName, modelVersion: primarySHA256(active), id: body.id,
            outputs: primary.outputs.compactMap { info in
                guard wanted?.contains(info.name) ?? true, let tensor = outputs[info.name] else { return nil }
                return OutputTensor(name: info.name, tensor: tensor)
            })
    }
}

extension InferenceResponseBody: ResponseEncodable {}
extension ModelMetadataBody: ResponseEncodable {}
