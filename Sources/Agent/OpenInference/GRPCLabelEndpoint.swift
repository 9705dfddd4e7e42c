import GRPCCore
import OpenInferenceGRPC

/// gRPC's `quantfleet.agent.v1.LabelService`: `POST /v2/labels` beside the Open Inference Protocol's
/// gRPC service, through the same `LateLabelIntake`.
struct GRPCLabelEndpoint: Quantfleet_Agent_V1_LabelService.SimpleServiceProtocol {
    let intake: LateLabelIntake

    func sendLabels(
        request: Quantfleet_Agent_V1_SendLabelsRequest, context: ServerContext
    ) async throws -> Quantfleet_Agent_V1_SendLabelsResponse {
        var entries: [(id: String, rows: [Int])] = []
        for (index, label) in request.labels.enumerated() {
            let rows = label.label.map { Int(clamping: $0) }
            guard !label.id.isEmpty else { throw RPCError(code: .invalidArgument, message: "labels[\(index)].id is missing") }
            if let problem = LateLabelIntake.problem(id: label.id, rows: rows) {
                throw RPCError(code: .invalidArgument, message: "labels[\(index)]: \(problem)")
            }
            entries.append((label.id, rows))
        }
        let outcome = try intake.apply(entries)
        return .with {
            $0.accepted = Int64(outcome.accepted)
            $0.notAwaited = outcome.notAwaited
        }
    }
}
