import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Asks an agent's Open Inference Protocol server whether it is ready to serve.
public enum HealthProbe {
    public static func isReady(_ agent: URL) async -> Bool {
        var request = URLRequest(url: agent.appendingPathComponent("v2/health/ready"))
        request.timeoutInterval = 2
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }
}
