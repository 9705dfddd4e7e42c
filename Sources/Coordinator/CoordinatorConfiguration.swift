import DaemonSupport
import FleetProtocol
import Foundation

/// The coordinator's configuration file (YAML). Example: `Config/coordinator.yaml`.
public struct CoordinatorConfiguration: Sendable, Codable {
    public struct Listen: Sendable, Codable {
        public var host: String
        public var port: Int
    }

    /// A rollout the coordinator opens at start-up if the ledger has no open one for the same
    /// models. (An admin API replaces this later; the ledger keeps the state either way.)
    public struct StartupRollout: Sendable, Codable {
        public var modelName: String
        public var reference: String
        public var referencePrecision: String
        public var candidate: String
        public var candidatePrecision: String
        public var samplingRate: Double
        public var windowSize: Int
        public var windowMaxAgeMillis: Int

        enum CodingKeys: String, CodingKey {
            case modelName = "model-name", reference, candidate
            case referencePrecision = "reference-precision", candidatePrecision = "candidate-precision"
            case samplingRate = "sampling-rate", windowSize = "window-size"
            case windowMaxAgeMillis = "window-max-age-ms"
        }
    }

    public var listen: Listen
    public var tls: TLSFiles
    public var ledger: String
    public var modelStore: String
    public var policy: String
    public var heartbeatIntervalMillis: Int
    public var maxFrameBytes: Int
    public var rollout: StartupRollout?
    /// The admin API (HTTPS, operator client certificates); absent: no admin API.
    public var admin: Listen?

    enum CodingKeys: String, CodingKey {
        case listen, tls, ledger, policy, rollout, admin
        case modelStore = "model-store"
        case heartbeatIntervalMillis = "heartbeat-interval-ms"
        case maxFrameBytes = "max-frame-bytes"
    }

    /// Reads a YAML file; relative paths inside it are taken relative to the file's folder.
    public static func load(from path: String) throws -> CoordinatorConfiguration {
        var configuration: CoordinatorConfiguration = try ConfigurationFile.decode(path)
        let base = ConfigurationFile.folder(of: path)
        configuration.tls = configuration.tls.resolved(against: base)
        configuration.ledger = ConfigurationFile.resolve(configuration.ledger, against: base)
        configuration.modelStore = ConfigurationFile.resolve(configuration.modelStore, against: base)
        configuration.policy = ConfigurationFile.resolve(configuration.policy, against: base)
        if var rollout = configuration.rollout {
            rollout.reference = ConfigurationFile.resolve(rollout.reference, against: base)
            rollout.candidate = ConfigurationFile.resolve(rollout.candidate, against: base)
            configuration.rollout = rollout
        }
        return configuration
    }
}
