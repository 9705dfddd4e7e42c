import DaemonSupport
import FleetProtocol
import Foundation

/// The agent's configuration file (YAML). Example: `Config/agent.yaml`.
public struct AgentConfiguration: Sendable, Decodable {
    public struct Endpoint: Sendable, Codable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public var description: String { "\(host):\(port)" }
    }

    /// Where the Open Inference Protocol is served: REST (and `/metrics`) on `port`, and gRPC on
    /// `grpcPort` when given.
    public struct InferenceServers: Sendable, Codable {
        public var host: String
        public var port: Int
        public var grpcPort: Int?

        enum CodingKeys: String, CodingKey {
            case host, port
            case grpcPort = "grpc-port"
        }
    }

    /// The coordinators sharing one ledger (`coordinators:`), or the one (`coordinator:`). The link
    /// starts at a random one, so a fleet spreads over them, and moves to the next whenever a session
    /// fails or ends.
    public var coordinators: [Endpoint]
    /// The DNS name every coordinator's certificate must carry.
    public var coordinatorName: String
    public var tls: TLSFiles
    /// Model cache and window spool live here.
    public var dataDir: String
    /// The Open Inference Protocol servers; keep them on loopback.
    public var inference: InferenceServers
    public var shadowQueueCapacity: Int
    /// The window spool's cap: past it the oldest unsent windows are merged (`WindowSpool`).
    public var spoolMaxBytes: Int
    /// How long a shadowed request's outcome waits for a late label (`/v2/labels`).
    public var labelHorizonMillis: Int
    /// The most outcomes waiting for late labels; beyond it the oldest go.
    public var maxAwaitingLabels: Int
    public var maxFrameBytes: Int
    /// The most bytes the loaded models of every model name may hold together; an assignment that
    /// would need more is refused, and the coordinator records why. nil: no budget.
    public var modelMemoryBudgetBytes: Int?
    public var reconnect: Backoff.Configuration
    /// Reported in Hello; staged rollouts target agents by them (e.g. site, device-class).
    public var labels: [String: String]
    /// The coordinator's Ed25519 public key (PEM): one trusted signing key.
    public var coordinatorSigningKey: String?
    /// More trusted Ed25519 public keys (PEM), e.g. the next key during a rotation. With any trusted
    /// key, only signed, unexpired assignments no older than the last accepted are taken, and only
    /// models whose manifest a trusted key signed are loaded.
    public var trustedSigningKeys: [String]
    /// Fraction of shadowed requests on which the reference also runs on another float kernel path
    /// (the noise floor: what the float model differs from itself); 0 turns it off.
    public var noiseFloorRate: Double

    enum CodingKeys: String, CodingKey {
        case coordinator, coordinators, tls, inference, reconnect, labels
        case coordinatorName = "coordinator-name"
        case dataDir = "data-dir"
        case shadowQueueCapacity = "shadow-queue-capacity"
        case spoolMaxBytes = "spool-max-bytes"
        case labelHorizonMillis = "label-horizon-ms"
        case maxAwaitingLabels = "max-awaiting-labels"
        case maxFrameBytes = "max-frame-bytes"
        case modelMemoryBudgetBytes = "model-memory-budget-bytes"
        case coordinatorSigningKey = "coordinator-signing-key"
        case trustedSigningKeys = "trusted-signing-keys"
        case noiseFloorRate = "noise-floor-rate"
    }

    /// A day: a reviewer's label comes within it.
    public static let defaultLabelHorizonMillis = 86_400_000
    /// About 5 MB of outcomes in the spool.
    public static let defaultMaxAwaitingLabels = 100_000

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch (try container.decodeIfPresent(Endpoint.self, forKey: .coordinator),
                try container.decodeIfPresent([Endpoint].self, forKey: .coordinators)) {
        case (let one?, nil): coordinators = [one]
        case (nil, let several?) where !several.isEmpty: coordinators = several
        case (nil, _?):
            throw DecodingError.dataCorruptedError(forKey: .coordinators, in: container, debugDescription: "must list at least one coordinator")
        case (_?, _?):
            throw DecodingError.dataCorruptedError(
                forKey: .coordinators, in: container, debugDescription: "give `coordinator` (one) or `coordinators` (a list), not both")
        case (nil, nil):
            throw DecodingError.keyNotFound(CodingKeys.coordinators, .init(
                codingPath: decoder.codingPath, debugDescription: "`coordinators` (a list of host and port) or `coordinator` is required"))
        }
        coordinatorName = try container.decode(String.self, forKey: .coordinatorName)
        tls = try container.decode(TLSFiles.self, forKey: .tls)
        dataDir = try container.decode(String.self, forKey: .dataDir)
        inference = try container.decode(InferenceServers.self, forKey: .inference)
        shadowQueueCapacity = try container.decode(Int.self, forKey: .shadowQueueCapacity)
        spoolMaxBytes = try container.decodeIfPresent(Int.self, forKey: .spoolMaxBytes) ?? WindowSpool.defaultMaxPendingBytes
        guard spoolMaxBytes >= WindowSpool.minimumMaxPendingBytes else {
            throw DecodingError.dataCorruptedError(
                forKey: .spoolMaxBytes, in: container, debugDescription: "must be at least \(WindowSpool.minimumMaxPendingBytes) bytes")
        }
        labelHorizonMillis = try container.decodeIfPresent(Int.self, forKey: .labelHorizonMillis) ?? Self.defaultLabelHorizonMillis
        guard labelHorizonMillis >= 1_000 else {
            throw DecodingError.dataCorruptedError(
                forKey: .labelHorizonMillis, in: container, debugDescription: "must be at least 1000 (a second), got \(labelHorizonMillis)")
        }
        maxAwaitingLabels = try container.decodeIfPresent(Int.self, forKey: .maxAwaitingLabels) ?? Self.defaultMaxAwaitingLabels
        guard maxAwaitingLabels >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxAwaitingLabels, in: container, debugDescription: "must be at least 1, got \(maxAwaitingLabels)")
        }
        maxFrameBytes = try container.decode(Int.self, forKey: .maxFrameBytes)
        modelMemoryBudgetBytes = try container.decodeIfPresent(Int.self, forKey: .modelMemoryBudgetBytes)
        if let budget = modelMemoryBudgetBytes, budget < 1 {
            throw DecodingError.dataCorruptedError(
                forKey: .modelMemoryBudgetBytes, in: container, debugDescription: "must be at least 1 byte, got \(budget)")
        }
        reconnect = try container.decode(Backoff.Configuration.self, forKey: .reconnect)
        // Optional: an agent without labels is matched only by rollouts that target every agent.
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        coordinatorSigningKey = try container.decodeIfPresent(String.self, forKey: .coordinatorSigningKey)
        trustedSigningKeys = try container.decodeIfPresent([String].self, forKey: .trustedSigningKeys) ?? []
        noiseFloorRate = try container.decodeIfPresent(Double.self, forKey: .noiseFloorRate) ?? 0.05
        guard (0...1).contains(noiseFloorRate) else {
            throw DecodingError.dataCorruptedError(forKey: .noiseFloorRate, in: container, debugDescription: "must be in [0, 1]")
        }
    }

    /// Reads a YAML file; relative paths inside it are taken relative to the file's folder.
    public static func load(from path: String) throws -> AgentConfiguration {
        var configuration: AgentConfiguration = try ConfigurationFile.decode(path)
        let base = ConfigurationFile.folder(of: path)
        configuration.tls = configuration.tls.resolved(against: base)
        configuration.dataDir = ConfigurationFile.resolve(configuration.dataDir, against: base)
        configuration.coordinatorSigningKey = configuration.coordinatorSigningKey.map {
            ConfigurationFile.resolve($0, against: base)
        }
        configuration.trustedSigningKeys = configuration.trustedSigningKeys.map { ConfigurationFile.resolve($0, against: base) }
        return configuration
    }

    /// Every trusted signing key file: `coordinator-signing-key` and `trusted-signing-keys`.
    public var signingKeyFiles: [String] {
        (coordinatorSigningKey.map { [$0] } ?? []) + trustedSigningKeys
    }
}
