import Foundation

/// The files of a fleet on one machine, under one folder: PKI, coordinator (ledger, model store),
/// one folder per agent (model cache, spool), configuration files and logs. The demo and the
/// system tests lay out fleets with it; the configuration files are the ones an operator writes.
public struct FleetLayout: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public var pki: URL { root.appendingPathComponent("pki") }
    public var logs: URL { root.appendingPathComponent("logs") }
    public var models: URL { root.appendingPathComponent("models") }
    public var coordinatorDirectory: URL { coordinatorDirectory(0) }
    public var ledger: URL { coordinatorDirectory.appendingPathComponent("ledger.sqlite") }
    public var coordinatorConfig: URL { coordinatorConfig(0) }

    /// The first coordinator's folder is `coordinator`; with several sharing a PostgreSQL ledger, the
    /// others' are `coordinator-2`, `coordinator-3`, ...
    public func coordinatorDirectory(_ index: Int) -> URL {
        root.appendingPathComponent(index == 0 ? "coordinator" : "coordinator-\(index + 1)")
    }

    public func coordinatorConfig(_ index: Int) -> URL {
        root.appendingPathComponent(index == 0 ? "coordinator.yaml" : "coordinator-\(index + 1).yaml")
    }

    public func agentDirectory(_ id: String) -> URL { root.appendingPathComponent("agents/\(id)") }
    public func agentConfig(_ id: String) -> URL { agentDirectory(id).appendingPathComponent("agent.yaml") }
    public func spool(_ id: String) -> URL { agentDirectory(id).appendingPathComponent("data/spool.sqlite") }
    public func log(_ name: String) -> URL { logs.appendingPathComponent("\(name).log") }

    /// Runs `Deploy/pki/make-pki.sh` for the coordinator and these agents (keeps an existing CA).
    public func makePKI(script: URL, agents: [String], caName: String? = nil) throws {
        try ToolRun.output(of: "/bin/bash", [script.path, pki.path] + (caName.map { ["--ca-name", $0] } ?? []) + agents)
    }

    public struct CoordinatorSettings: Sendable {
        public var port: Int
        public var policy: URL
        public var modelName: String
        public var reference: URL
        public var candidate: URL
        public var samplingRate = 1.0
        public var windowSize = 100
        public var windowMaxAgeMillis = 1000
        public var heartbeatIntervalMillis = 2000
        /// Open the rollout above at start-up (`rollout:`); off when rollouts come through the admin API.
        public var opensRollout = true
        /// Serve the admin API on this loopback port.
        public var adminPort: Int?
        /// Serve Prometheus metrics on this loopback port.
        public var metricsPort: Int?
        public var maxConcurrentTransfers = 4
        public var referenceResidentMillis = 600_000
        /// How long each signed assignment is valid (`assignment-lifetime-ms`).
        public var assignmentLifetimeMillis = 86_400_000
        /// `agent-limits:` (windows in flight, bytes per second); nil: the coordinator's defaults.
        public var agentLimits: (windowsInFlight: Int, bytesPerSecond: Int)?
        /// A `postgres://` ledger; nil: the layout's SQLite file (`ledger`).
        public var ledger: String?

        public init(port: Int, policy: URL, modelName: String, reference: URL, candidate: URL) {
            self.port = port
            self.policy = policy
            self.modelName = modelName
            self.reference = reference
            self.candidate = candidate
        }
    }

    @discardableResult
    public func writeCoordinatorConfig(_ settings: CoordinatorSettings, index: Int = 0) throws -> URL {
        let directory = coordinatorDirectory(index)
        try write("""
            # quantfleet-coordinator configuration (written by FleetLayout)
            listen:
              host: 127.0.0.1
              port: \(settings.port)
            tls:
              certificate: \(pki.path)/coordinator.pem
              private-key: \(pki.path)/coordinator.key
              trust-roots: \(pki.path)/ca.pem
              crl: \(pki.path)/crl.pem
            ledger: \(settings.ledger ?? directory.appendingPathComponent("ledger.sqlite").path)
            model-store: \(directory.path)/models
            policy: \(settings.policy.path)
            heartbeat-interval-ms: \(settings.heartbeatIntervalMillis)
            max-frame-bytes: 4194304
            signing-key: \(pki.path)/signing.key
            max-concurrent-transfers: \(settings.maxConcurrentTransfers)
            reference-resident-ms: \(settings.referenceResidentMillis)
            assignment-lifetime-ms: \(settings.assignmentLifetimeMillis)

            """ + (settings.agentLimits.map { """
            agent-limits:
              windows-in-flight: \($0.windowsInFlight)
              bytes-per-second: \($0.bytesPerSecond)

            """ } ?? "") + (settings.opensRollout ? """
            rollout:
              model-name: \(settings.modelName)
              reference: \(settings.reference.path)
              reference-precision: fp16
              candidate: \(settings.candidate.path)
              candidate-precision: int8
              sampling-rate: \(settings.samplingRate)
              window-size: \(settings.windowSize)
              window-max-age-ms: \(settings.windowMaxAgeMillis)

            """ : "") + (settings.adminPort.map { """
            admin:
              host: 127.0.0.1
              port: \($0)

            """ } ?? "") + (settings.metricsPort.map { """
            metrics:
              host: 127.0.0.1
              port: \($0)

            """ } ?? ""), to: coordinatorConfig(index))
        return coordinatorConfig(index)
    }

    @discardableResult
    public func writeAgentConfig(id: String, coordinatorPort: Int, inferencePort: Int, labels: [String: String] = [:]) throws -> URL {
        try writeAgentConfig(id: id, coordinatorPorts: [coordinatorPort], inferencePort: inferencePort, labels: labels)
    }

    /// An agent that knows several coordinators (`coordinators:`) when given more than one port;
    /// `spoolMaxBytes` sets `spool-max-bytes` (nil: the agent's default), `grpcPort` the Open
    /// Inference Protocol's gRPC port (nil: REST only).
    @discardableResult
    public func writeAgentConfig(
        id: String, coordinatorPorts: [Int], inferencePort: Int, labels: [String: String] = [:], spoolMaxBytes: Int? = nil,
        grpcPort: Int? = nil
    ) throws -> URL {
        precondition(!coordinatorPorts.isEmpty, "an agent reaches at least one coordinator")
        let coordinators = coordinatorPorts.count == 1 ? """
            coordinator:
              host: 127.0.0.1
              port: \(coordinatorPorts[0])
            """ : "coordinators:\n" + coordinatorPorts.map { "  - host: 127.0.0.1\n    port: \($0)" }.joined(separator: "\n")
        return try write("""
            # quantfleet-agent configuration (written by FleetLayout)
            \(coordinators)
            coordinator-name: localhost
            coordinator-signing-key: \(pki.path)/signing.pub.pem
            tls:
              certificate: \(pki.path)/agents/\(id).pem
              private-key: \(pki.path)/agents/\(id).key
              trust-roots: \(pki.path)/ca.pem
              crl: \(pki.path)/crl.pem
            data-dir: \(agentDirectory(id).path)/data
            inference:
              host: 127.0.0.1
              port: \(inferencePort)\(grpcPort.map { "\n  grpc-port: \($0)" } ?? "")
            shadow-queue-capacity: 1024
            max-frame-bytes: 4194304\(spoolMaxBytes.map { "\nspool-max-bytes: \($0)" } ?? "")
            reconnect:
              initial-ms: 200
              maximum-ms: 5000
            labels: {\(labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", "))}

            """, to: agentConfig(id))
    }

    @discardableResult
    private func write(_ text: String, to url: URL) throws -> URL {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
