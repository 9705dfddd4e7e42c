import DaemonSupport
import FleetProtocol
import Foundation
import Ledger

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
    /// A SQLite file, or `postgres://...` for a ledger several coordinators share.
    public var ledger: String
    public var modelStore: String
    public var policy: String
    public var heartbeatIntervalMillis: Int
    public var maxFrameBytes: Int
    public var rollout: StartupRollout?
    /// The admin API (HTTPS, operator client certificates); absent: no admin API.
    public var admin: Listen?
    /// Prometheus metrics over plain HTTP at `/metrics`; keep it on loopback or a scrape network.
    public var metrics: Listen?
    /// The Ed25519 private key (PEM) that signs model manifests; agents verify with its public half.
    public var signingKey: String?
    /// How long a signed assignment stays valid; connected agents get it renewed at half of it. An
    /// agent refuses a new assignment or download whose metadata expired (a replay, or a coordinator
    /// gone for that long); a model already serving keeps serving.
    public var assignmentLifetimeMillis: Int
    /// Model transfers streamed at once, across all agents.
    public var maxConcurrentTransfers: Int
    /// After a promotion, how long agents keep the former reference loaded and shadowed, so that a
    /// rollback is a pointer switch.
    public var referenceResidentMillis: Int
    /// Agent TLS handshakes in progress at once; beyond it connections wait to be accepted (in the
    /// kernel's accept queue), so a reconnect storm is absorbed.
    public var maxHandshakesInFlight: Int
    /// Agent TLS handshakes started per second at most, in bursts of as many.
    public var handshakesPerSecond: Int
    /// A second connection with a connected agent's id replaces the first at most once per this
    /// interval; within it the newcomer is refused (a stolen certificate cannot evict in a loop).
    public var agentReplacementIntervalMillis: Int
    /// What one agent may send (windows awaiting their commit, bytes per second); beyond it that
    /// agent is read more slowly, logged and counted.
    public var agentLimits: AgentLimits
    /// The agents this coordinator is provisioned for: at start-up it checks that the open-files
    /// limit holds that many connections, and warns if not.
    public var maxAgents: Int
    /// Ledger commits start at most this often; under load the windows of the interval share one
    /// transaction, and each waits up to this long for its ack. 0: commit whenever the last is done.
    public var ledgerCommitIntervalMillis: Int
    /// Windows ingested more than this many days ago are rolled up into one row per agent and day
    /// (`Ledger.rollUp`), checked hourly; nil: every window is kept as it came.
    public var ledgerRetentionDays: Int?

    enum CodingKeys: String, CodingKey {
        case listen, tls, ledger, policy, rollout, admin, metrics
        case modelStore = "model-store"
        case heartbeatIntervalMillis = "heartbeat-interval-ms"
        case maxFrameBytes = "max-frame-bytes"
        case signingKey = "signing-key"
        case assignmentLifetimeMillis = "assignment-lifetime-ms"
        case maxConcurrentTransfers = "max-concurrent-transfers"
        case referenceResidentMillis = "reference-resident-ms"
        case maxHandshakesInFlight = "max-handshakes-in-flight"
        case handshakesPerSecond = "handshakes-per-second"
        case agentReplacementIntervalMillis = "agent-replacement-interval-ms"
        case agentLimits = "agent-limits"
        case maxAgents = "max-agents"
        case ledgerCommitIntervalMillis = "ledger-commit-interval-ms"
        case ledgerRetentionDays = "ledger-retention-days"
    }

    /// `ledger` parsed; a PostgreSQL password may come from PGPASSWORD instead of the URI.
    public var ledgerLocation: LedgerLocation {
        get throws { try LedgerLocation(parsing: ledger) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        listen = try container.decode(Listen.self, forKey: .listen)
        tls = try container.decode(TLSFiles.self, forKey: .tls)
        ledger = try container.decode(String.self, forKey: .ledger)
        do {
            _ = try LedgerLocation(parsing: ledger)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .ledger, in: container, debugDescription: "\(error)")
        }
        modelStore = try container.decode(String.self, forKey: .modelStore)
        policy = try container.decode(String.self, forKey: .policy)
        heartbeatIntervalMillis = try container.decode(Int.self, forKey: .heartbeatIntervalMillis)
        maxFrameBytes = try container.decode(Int.self, forKey: .maxFrameBytes)
        rollout = try container.decodeIfPresent(StartupRollout.self, forKey: .rollout)
        admin = try container.decodeIfPresent(Listen.self, forKey: .admin)
        metrics = try container.decodeIfPresent(Listen.self, forKey: .metrics)
        signingKey = try container.decodeIfPresent(String.self, forKey: .signingKey)
        assignmentLifetimeMillis = try container.decodeIfPresent(Int.self, forKey: .assignmentLifetimeMillis) ?? 86_400_000
        guard assignmentLifetimeMillis >= 1_000 else {
            throw DecodingError.dataCorruptedError(
                forKey: .assignmentLifetimeMillis, in: container,
                debugDescription: "must be at least 1000 (a second), got \(assignmentLifetimeMillis)")
        }
        maxConcurrentTransfers = try container.decodeIfPresent(Int.self, forKey: .maxConcurrentTransfers) ?? 4
        guard maxConcurrentTransfers >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxConcurrentTransfers, in: container, debugDescription: "must be at least 1")
        }
        referenceResidentMillis = try container.decodeIfPresent(Int.self, forKey: .referenceResidentMillis) ?? 600_000
        guard referenceResidentMillis >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .referenceResidentMillis, in: container, debugDescription: "must not be negative")
        }
        maxHandshakesInFlight = try container.decodeIfPresent(Int.self, forKey: .maxHandshakesInFlight) ?? 128
        handshakesPerSecond = try container.decodeIfPresent(Int.self, forKey: .handshakesPerSecond) ?? 500
        agentReplacementIntervalMillis = try container.decodeIfPresent(Int.self, forKey: .agentReplacementIntervalMillis) ?? 10_000
        agentLimits = try container.decodeIfPresent(AgentLimits.self, forKey: .agentLimits) ?? .defaults
        maxAgents = try container.decodeIfPresent(Int.self, forKey: .maxAgents) ?? 10_000
        ledgerCommitIntervalMillis = try container.decodeIfPresent(Int.self, forKey: .ledgerCommitIntervalMillis) ?? 10
        guard (0...1_000).contains(ledgerCommitIntervalMillis) else {
            throw DecodingError.dataCorruptedError(
                forKey: .ledgerCommitIntervalMillis, in: container,
                debugDescription: "must be between 0 and 1000, got \(ledgerCommitIntervalMillis)")
        }
        ledgerRetentionDays = try container.decodeIfPresent(Int.self, forKey: .ledgerRetentionDays)
        let positive: [(CodingKeys, Int)] = [
            (.maxHandshakesInFlight, maxHandshakesInFlight), (.handshakesPerSecond, handshakesPerSecond),
            (.agentReplacementIntervalMillis, agentReplacementIntervalMillis), (.maxAgents, maxAgents),
        ] + (ledgerRetentionDays.map { [(.ledgerRetentionDays, $0)] } ?? [])
        for (key, value) in positive where value < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be at least 1, got \(value)")
        }
    }

    /// The listener's handshake limits.
    var handshakeLimits: HandshakeAdmission.Limits {
        HandshakeAdmission.Limits(
            maximumInFlight: maxHandshakesInFlight, perSecond: Double(handshakesPerSecond), burst: handshakesPerSecond)
    }

    /// Reads a YAML file; relative paths inside it are taken relative to the file's folder.
    public static func load(from path: String) throws -> CoordinatorConfiguration {
        var configuration: CoordinatorConfiguration = try ConfigurationFile.decode(path)
        let base = ConfigurationFile.folder(of: path)
        configuration.tls = configuration.tls.resolved(against: base)
        if case .file = try configuration.ledgerLocation {
            configuration.ledger = ConfigurationFile.resolve(configuration.ledger, against: base)
        }
        configuration.modelStore = ConfigurationFile.resolve(configuration.modelStore, against: base)
        configuration.policy = ConfigurationFile.resolve(configuration.policy, against: base)
        configuration.signingKey = configuration.signingKey.map { ConfigurationFile.resolve($0, against: base) }
        if var rollout = configuration.rollout {
            rollout.reference = ConfigurationFile.resolve(rollout.reference, against: base)
            rollout.candidate = ConfigurationFile.resolve(rollout.candidate, against: base)
            configuration.rollout = rollout
        }
        return configuration
    }
}
