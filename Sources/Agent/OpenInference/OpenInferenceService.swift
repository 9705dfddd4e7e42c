import DaemonSupport
import Foundation
import Inference

/// What both Open Inference Protocol transports (REST and gRPC) serve, whatever carries it: the
/// model that answers under a name, its metadata, and an infer on it. The name's primary model
/// answers (the reference, or the candidate once promoted); a sampled copy of the request goes to
/// the name's shadow queue, never waited on, with the request's id for a label sent later.
struct OpenInferenceService: Sendable {
    let state: ServingState
    let queues: ShadowQueues
    let metrics: AgentMetrics

    static let serverName = "quantfleet-agent"
    static let extensions = ["binary_tensor_data"]

    var serverMetadata: ServerMetadataBody {
        ServerMetadataBody(name: Self.serverName, version: AgentApp.version, extensions: Self.extensions)
    }

    /// Ready once any model name serves.
    var isReady: Bool { !state.names.isEmpty }

    /// What serves under `name` (in `version`, when asked: the primary model's SHA-256); refused
    /// with 503 before any assignment, else 404 naming what is served.
    func active(named name: String, version: String?) throws -> ServingState.Active {
        guard let active = state.active(named: name) else {
            let served = state.names
            guard !served.isEmpty else {
                throw OIPError(.serviceUnavailable, "no model loaded yet: waiting for the coordinator's assignment")
            }
            throw OIPError(.notFound, "unknown model '\(name)'; this agent serves \(served.map { "'\($0)'" }.joined(separator: ", "))")
        }
        if let version, !version.isEmpty, version != primarySHA256(active) {
            throw OIPError(.notFound, "model '\(name)' has no version '\(version)' here; this agent serves version \(primarySHA256(active))")
        }
        return active
    }

    func metadata(of active: ServingState.Active) -> ModelMetadataBody {
        func describe(_ info: TensorInfo) -> ModelMetadataBody.TensorMetadata {
            .init(name: info.name, datatype: OIPDatatype.name(of: info.elementType), shape: info.shape.map { $0 ?? -1 })
        }
        let primary = active.primary
        return ModelMetadataBody(
            name: active.assignment.modelName, versions: [primarySHA256(active)], platform: "onnx",
            inputs: primary.inputs.map(describe), outputs: primary.outputs.map(describe))
    }

    /// A version is the primary model's SHA-256, the one `versions` in the metadata lists.
    func primarySHA256(_ active: ServingState.Active) -> String {
        active.primaryIsCandidate ? active.assignment.candidate.sha256 : active.assignment.reference.sha256
    }

    /// Runs the request on the primary model; throws `InferenceRequestError` naming what is wrong.
    func infer(_ body: InferenceRequestBody, on active: ServingState.Active) throws -> InferenceAnswer {
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
        return InferenceAnswer(
            modelName: active.assignment.modelName, modelVersion: primarySHA256(active), id: requestID,
            outputs: primary.outputs.compactMap { info in
                guard let binary = requested.binary[info.name], let tensor = outputs[info.name] else { return nil }
                return InferenceAnswer.Output(name: info.name, tensor: tensor, binary: binary)
            })
    }
}

/// An infer's answer before a transport encodes it: the outputs asked for, in the model's order,
/// each marked for binary data or not (REST; gRPC sends every output raw).
struct InferenceAnswer {
    struct Output {
        var name: String
        var tensor: Tensor
        var binary: Bool
    }

    var modelName: String
    var modelVersion: String
    var id: String
    var outputs: [Output]
}
