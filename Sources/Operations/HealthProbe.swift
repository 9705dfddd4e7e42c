import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Asks an agent's Open Inference Protocol server whether it is ready to serve.
public enum HealthProbe {
    /// Whether the agent serves anything (`model` nil), or that model: the Open Inference Protocol's
    /// server and model readiness.
    public static func isReady(_ agent: URL, model: String? = nil) async -> Bool {
        let path = model.map { "v2/models/\($0)/ready" } ?? "v2/health/ready"
        var request = URLRequest(url: agent.appendingPathComponent(path))
        request.timeoutInterval = 2
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }
}
