import DaemonSupport
import Foundation
import Ledger
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the agents serve at the end of a campaign: each answers with the model the ledger's
/// outcome calls for (the candidate once promoted, the reference otherwise), every switch any
/// agent reported put one of the rollout's two signed models in front, never other bytes, and every
/// verified model an agent keeps (the only files it loads) hashes to its address.
struct ServingCheck: Sendable {
    /// Each agent's Open Inference Protocol URL.
    let agents: [String: URL]
    /// Each agent's model cache.
    let modelCaches: [String: URL]
    let modelName: String
    let reference: String
    let candidate: String
    let ledger: URL
    let rolloutID: String

    func run() async throws -> [String] {
        let reader = try Ledger.openReadOnly(path: ledger.path)
        let state = try reader.query("SELECT state FROM rollout_plans WHERE rollout_id = '\(rolloutID)'").rows.first?.first
        let expected = state == "promoted" ? candidate : reference
        var violations: [String] = []
        for (agent, url) in agents.sorted(by: { $0.key < $1.key }) {
            let served = await versions(at: url)
            if served != [expected] {
                violations.append("\(agent) serves \(served.map { "\($0)" } ?? "nothing it can say"), the ledger (\(state ?? "no plan")) says \(expected)")
            }
        }
        let foreign = try reader.query("""
            SELECT s.agent_id, s.primary_sha256 FROM serving_changes s JOIN assignments a ON a.id = s.assignment_id
            WHERE a.rollout_id = '\(rolloutID)' AND s.primary_sha256 NOT IN ('\(reference)', '\(candidate)')
            """).rows
        violations += foreign.map { "\($0[0]) put model \($0[1]) in front, which is neither the reference nor the candidate" }
        for (agent, cache) in modelCaches.sorted(by: { $0.key < $1.key }) {
            let files = (try? FileManager.default.contentsOfDirectory(at: cache, includingPropertiesForKeys: nil)) ?? []
            for file in files where file.pathExtension == "onnx" {
                let address = file.deletingPathExtension().lastPathComponent
                let actual = try ContentAddress.sha256(ofFileAt: file)
                if actual != address { violations.append("\(agent) keeps \(file.lastPathComponent) as verified, but it hashes to \(actual)") }
            }
        }
        return violations
    }

    /// The versions the agent's Open Inference Protocol server names for the model; nil if it does not answer.
    private func versions(at agent: URL) async -> [String]? {
        var request = URLRequest(url: agent.appendingPathComponent("v2/models/\(modelName)"))
        request.timeoutInterval = 5
        guard let (data, _) = try? await URLSession.shared.data(for: request),
            let metadata = try? JSONDecoder().decode(Metadata.self, from: data)
        else { return nil }
        return metadata.versions
    }

    private struct Metadata: Decodable {
        var versions: [String]
    }
}
