import FleetProtocol
import Foundation
import Logging
import NIOCore
import NIOSSL

/// Runs a load plan: issues (or reuses) every agent's certificate, starts the agents at the ramp's
/// pace, lets them send windows for the plan's duration, waits for the last acks, and stops them.
public struct LoadGenerator: Sendable {
    /// The fleet CA that issues the agents' certificates and that the coordinator is verified against.
    public struct FleetCA: Sendable {
        public var certificate: String
        public var privateKey: String
        public var cacheDirectory: URL

        public init(certificate: String, privateKey: String, cacheDirectory: URL) {
            self.certificate = certificate
            self.privateKey = privateKey
            self.cacheDirectory = cacheDirectory
        }
    }

    public let plan: LoadPlan
    public let ca: FleetCA
    public let measurements: LoadMeasurements
    private let windowsEnd = WindowDeadline()
    private let logger: Logger

    public init(plan: LoadPlan, ca: FleetCA, logger: Logger) throws {
        try plan.validate()
        self.plan = plan
        self.ca = ca
        self.measurements = LoadMeasurements(agents: plan.agents)
        self.logger = logger
    }

    /// Every agent's TLS context, from certificates issued in process (or cached).
    public func prepareAgents() throws -> PreparedAgents {
        let started = ContinuousClock.now
        let issuer = try AgentCertificates(caCertificate: ca.certificate, caKey: ca.privateKey, cacheDirectory: ca.cacheDirectory)
        let roots = try NIOSSLCertificate.fromPEMFile(ca.certificate)
        var contexts: [NIOSSLContext] = []
        contexts.reserveCapacity(plan.agents)
        var issued = 0
        for index in 0..<plan.agents {
            let (credentials, new) = try issuer.credentials(for: plan.agentID(index))
            if new { issued += 1 }
            contexts.append(try FleetTLS.clientContext(chain: [credentials.certificate], key: credentials.privateKey, roots: roots))
        }
        return PreparedAgents(contexts: contexts, issued: issued, elapsed: started.duration(to: .now))
    }

    public struct PreparedAgents: Sendable {
        let contexts: [NIOSSLContext]
        /// Certificates issued now (the rest came from the cache), and the time for all of it.
        public let issued: Int
        public let elapsed: Duration
    }

    /// Ends the windows now rather than at the plan's duration: the run then waits for the last acks
    /// and returns.
    public func endWindows() {
        windowsEnd.end()
    }

    /// Runs the plan to its end; `progress` is called every `every` with the measurements so far.
    public func run(
        _ prepared: PreparedAgents, progress every: Duration = .seconds(5),
        progress report: @escaping @Sendable (LoadProgress) -> Void = { _ in }
    ) async throws -> LoadResult {
        let start = ContinuousClock.now
        windowsEnd.start(at: start, lasting: plan.duration)
        let agents = try (0..<plan.agents).map { index in
            var agentLogger = logger
            agentLogger[metadataKey: "agent"] = "\(plan.agentID(index))"
            return SimulatedAgent(
                id: plan.agentID(index), labels: plan.labels(index),
                source: try SocketAddress(ipAddress: SourceAddresses.address(of: index), port: 0),
                tls: prepared.contexts[index], seed: plan.seed &* 1_000_003 &+ UInt64(index), plan: plan,
                windowsEnd: windowsEnd, measurements: measurements, logger: agentLogger)
        }
        // The monitor ends the run: once it returns, the agents' task (and with it every agent) is cancelled.
        let timeline = await withTaskGroup(of: LoadResult.Timeline?.self) { group in
            group.addTask { await monitor(plan: plan, start: start, agents: agents, every: every, report: report) }
            group.addTask {
                await withDiscardingTaskGroup { running in
                    for (index, agent) in agents.enumerated() {
                        try? await Task.sleep(until: start + .seconds(Double(index) / plan.rampPerSecond))
                        if Task.isCancelled { break }
                        running.addTask { await agent.run() }
                    }
                }
                return nil
            }
            var timeline: LoadResult.Timeline?
            for await finished in group where finished != nil {
                timeline = finished
                group.cancelAll()
            }
            return timeline ?? LoadResult.Timeline(started: Date())
        }
        // Measured before the agents were stopped: their own disconnects are no outage.
        return LoadResult(plan: plan, prepared: prepared, timeline: timeline, measurements: timeline.atDrained ?? measurements.snapshot)
    }

    /// Watches the run: notes when every agent first connected and when windows stopped, then waits
    /// until every window is acked (or the drain times out).
    private func monitor(
        plan: LoadPlan, start: ContinuousClock.Instant, agents: [SimulatedAgent], every: Duration,
        report: @Sendable (LoadProgress) -> Void
    ) async -> LoadResult.Timeline {
        var timeline = LoadResult.Timeline(started: Date())
        var nextReport = start + every
        var drainUntil: ContinuousClock.Instant?
        while true {
            let now = ContinuousClock.now
            let snapshot = measurements.snapshot
            if timeline.allConnected == nil && snapshot.agentsEverConnected == plan.agents {
                timeline.allConnected = Date()
                timeline.atAllConnected = snapshot
            }
            if timeline.windowsEnded == nil && windowsEnd.hasPassed(at: now) {
                timeline.windowsEnded = Date()
                drainUntil = now + plan.drainTimeout
                timeline.atWindowsEnded = snapshot
            }
            if now >= nextReport {
                report(LoadProgress(elapsed: start.duration(to: now), snapshot: snapshot, agents: plan.agents))
                nextReport = now + every
            }
            if let drainUntil {
                let unacked = agents.reduce(0) { $0 + $1.unackedWindows }
                if unacked == 0 || now >= drainUntil {
                    timeline.drained = Date()
                    timeline.atDrained = measurements.snapshot
                    timeline.unackedAtEnd = unacked
                    return timeline
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// The measurements while a run goes on.
public struct LoadProgress: Sendable {
    public let elapsed: Duration
    public let snapshot: LoadMeasurements.Snapshot
    public let agents: Int
}
