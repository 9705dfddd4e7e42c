import DaemonSupport
import FleetProtocol
import Foundation

/// The agent's configuration file (YAML). Example: `Config/agent.yaml`.
public struct AgentConfiguration: Sendable, Codable {
    public struct Endpoint: Sendable, Codable {
        public var host: String
        public var port: Int
    }

    public var coordinator: Endpoint
    /// The DNS name the coordinator's certificate must carry.
    public var coordinatorName: String
    public var tls: TLSFiles
    /// Model cache and window spool live here.
    public var dataDir: String
    /// The Open Inference Protocol server; keep it on loopback.
    public var inference: Endpoint
    public var shadowQueueCapacity: Int
    public var maxFrameBytes: Int
    public var reconnect: Backoff.Configuration

    enum CodingKeys: String, CodingKey {
        case coordinator, tls, inference, reconnect
        case coordinatorName = "coordinator-name"
        case dataDir = "data-dir"
        case shadowQueueCapacity = "shadow-queue-capacity"
        case maxFrameBytes = "max-frame-bytes"
    }

    /// Reads a YAML file; relative paths inside it are taken relative to the file's folder.
    public static func load(from path: String) throws -> AgentConfiguration {
        var configuration: AgentConfiguration = try ConfigurationFile.decode(path)
        let base = ConfigurationFile.folder(of: path)
        configuration.tls = configuration.tls.resolved(against: base)
        configuration.dataDir = ConfigurationFile.resolve(configuration.dataDir, against: base)
        return configuration
    }
}
