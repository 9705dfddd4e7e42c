import FleetProtocol
import Foundation

/// What the tools that drive a local fleet ask of the admin API (the demo's stages, the chaos
/// campaign): the operator's client, the agents connected, a staged rollout of two model files.
extension AdminClient {
    /// The operator certificate `FleetLayout.makePKI` made, talking to the admin API on loopback.
    public init(operatorOf layout: FleetLayout, adminPort: Int) throws {
        try self.init(
            coordinator: URL(string: "https://localhost:\(adminPort)")!,
            certificate: layout.pki.appendingPathComponent("operators/operator.pem").path,
            privateKey: layout.pki.appendingPathComponent("operators/operator.key").path,
            trustRoots: layout.pki.appendingPathComponent("ca.pem").path)
    }

    /// Waits until `count` agents are connected; `check` runs before each poll and may throw (a fleet
    /// whose process died, say). Refusals and unanswered polls count as "not yet".
    public func waitForConnectedAgents(_ count: Int, timeout: Duration = .seconds(60), check: () throws -> Void = {}) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try check()
            if let agents = try? await get("/v1/agents", as: [AdminAPI.Agent].self), agents.filter(\.connected).count == count {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure(description: "\(count) agents did not all connect to the coordinator within \(timeout)")
    }

    /// Pushes both models under `modelName`, then creates and starts a rollout of the candidate in `stages`.
    public func startStagedRollout(
        modelName: String, reference: (file: URL, precision: String), candidate: (file: URL, precision: String), stages: [Int],
        windowSize: Int, windowMaxAgeMs: Int? = nil, reason: String
    ) async throws -> AdminAPI.Rollout {
        let referenceModel = try decode(
            AdminAPI.Model.self, from: try await pushModel(reference.file, name: modelName, precision: reference.precision))
        let candidateModel = try decode(
            AdminAPI.Model.self, from: try await pushModel(candidate.file, name: modelName, precision: candidate.precision))
        let created: AdminAPI.Rollout = try await post("/v1/rollouts", json: AdminAPI.CreateRollout(
            modelName: modelName, reference: referenceModel.sha256, candidate: candidateModel.sha256, stages: stages,
            windowSize: windowSize, windowMaxAgeMs: windowMaxAgeMs))
        return try await post("/v1/rollouts/\(created.id)/start", json: AdminAPI.Action(reason: reason))
    }
}
