import FleetProtocol
import Foundation
import Ledger
import Logging
import NIOCore
import ShadowEval
import NIOConcurrencyHelpers

/// One connected agent, from Hello to disconnect. The agent's id comes from its verified TLS
/// certificate (`agentID`), never from a message.
///
/// A class, not a struct: every async frame of the session's tasks holds `self`, and at 10,000
/// sessions a copy of these fields in each of them is memory per agent.
final class AgentSession: Sendable {
    enum SessionError: Error, CustomStringConvertible {
        case expectedHello(got: String)
        case noCommonVersion(offered: [UInt32])
        case unexpected(String)
        case replacedTooOften(since: Duration, interval: Duration)

        var description: String {
            switch self {
            case .expectedHello(let got): "the first frame must be Hello, got \(got)"
            case .noCommonVersion(let offered): "no common protocol version (agent offers \(offered), coordinator speaks \(FleetFraming.protocolVersion))"
            case .unexpected(let what): "unexpected \(what) from an agent"
            case .replacedTooOften(let since, let interval):
                "this agent id is connected already and was last replaced \(since.formatted(.units(allowed: [.seconds, .milliseconds]))) ago; "
                    + "a connection replaces another at most once every \(interval.formatted(.units(allowed: [.seconds, .milliseconds])))"
            }
        }
    }

    let agentID: String
    /// The client's address, and how to close its connection (when a newer one replaces it).
    let peer: String
    let closeConnection: @Sendable () -> Void
    let connections: AgentConnections
    let writer: LedgerWriter
    let presence: AgentPresence
    let controller: RolloutController
    let streamer: ModelChunkStreamer
    let heartbeatInterval: Duration
    let maxFrameBytes: Int
    let limits: AgentLimits
    let metrics: CoordinatorMetrics
    let logger: Logger
    /// The assignment last sent to the agent for each model name, and when.
    private let lastSent = NIOLockedValueBox<[String: (assignment: Assignment, at: ContinuousClock.Instant)]>([:])

    init(
        agentID: String, peer: String, closeConnection: @escaping @Sendable () -> Void, connections: AgentConnections,
        writer: LedgerWriter, presence: AgentPresence, controller: RolloutController, streamer: ModelChunkStreamer,
        heartbeatInterval: Duration, maxFrameBytes: Int, limits: AgentLimits, metrics: CoordinatorMetrics, logger: Logger
    ) {
        self.agentID = agentID
        self.peer = peer
        self.closeConnection = closeConnection
        self.connections = connections
        self.writer = writer
        self.presence = presence
        self.controller = controller
        self.streamer = streamer
        self.heartbeatInterval = heartbeatInterval
        self.maxFrameBytes = maxFrameBytes
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// The conversation, Hello to disconnect. The pipeline's `HeartbeatHandler` keeps the link alive
    /// and drops a silent agent.
    func run(inbound: NIOAsyncChannelInboundStream<Envelope>, outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        var frames = inbound.makeAsyncIterator()
        let hello = try await receiveHello(&frames)
        guard hello.protocolVersions.contains(FleetFraming.protocolVersion) else {
            let error = SessionError.noCommonVersion(offered: hello.protocolVersions)
            try? await outbound.write(Envelope(.error(.with { $0.reason = "\(error)" })))
            throw error
        }
        let token = try await claimAgentID(outbound)
        defer { connections.release(agentID, token: token) }
        try await writer.record(AgentHello(
            agentID: agentID, kernelPath: hello.kernelPath, agentVersion: hello.agentVersion, labels: hello.labels, at: Date()))
        try await outbound.write(Envelope(.welcome(.with {
            $0.protocolVersion = FleetFraming.protocolVersion
            $0.capabilities = hello.capabilities.filter(Self.capabilities.contains)
            $0.agentID = agentID
            $0.heartbeatIntervalMs = UInt32(heartbeatInterval / .milliseconds(1))
            $0.maxFrameBytes = UInt32(maxFrameBytes)
        })))
        logger.info("agent connected", metadata: [
            "kernel_path": "\(hello.kernelPath)", "version": "\(hello.agentVersion)", "labels": "\(hello.labels)",
        ])
        metrics.agentsConnected.increment()
        defer { metrics.agentsConnected.decrement() }
        // Subscribed before enrolling, so the assignment an enrollment brings is never missed.
        let severalModels = hello.capabilities.contains(Self.severalModelsCapability)
        let push = AssignmentPush(send: { [self] in try await sendAssignments(to: outbound, severalModels: severalModels) }) { [self] error in
            logger.notice("sending the agent its assignment failed; closing the connection", metadata: ["error": "\(error)"])
            closeConnection()
        }
        let subscription = controller.broadcast.subscribe(agentID: agentID, push)
        defer { controller.broadcast.unsubscribe(subscription) }
        try await controller.agentConnected(agentID)
        try await serve(&frames, outbound: outbound)
    }

    /// Sends the agent each of its assignments (one per model name) that changed since the last one
    /// sent for that name (a stage advanced, the agent was enrolled), or renewed once half its signed
    /// lifetime has passed, so a connected agent's metadata never expires. An agent that serves one
    /// model (without "several-models") takes each assignment as replacing the last: it gets only
    /// the newest rollout's. Run by the session's `AssignmentPush`, one call at a time.
    private func sendAssignments(to outbound: NIOAsyncChannelOutboundWriter<Envelope>, severalModels: Bool) async throws {
        let assignments = try await controller.assignments(for: agentID)
        for assignment in severalModels ? assignments : Array(assignments.prefix(1)) {
            if let sent = lastSent.withLockedValue({ $0[assignment.modelName] }), sent.assignment == assignment,
                sent.at.duration(to: .now) < controller.settings.assignmentLifetime / 2
            {
                continue
            }
            try await outbound.write(Envelope(.assignment(try await controller.signed(assignment, for: agentID))))
            lastSent.withLockedValue { $0[assignment.modelName] = (assignment, .now) }
        }
    }

    /// An agent that serves several model names at once, each with its own assignment.
    static let severalModelsCapability = "several-models"
    static let capabilities: Set<String> = [
        "model-chunks", "shadow-windows", "signed-assignments", "late-labels", severalModelsCapability,
    ]

    /// Takes the agent id for this connection, replacing an older connection with the same id at most
    /// once per interval; otherwise refuses this one. Either is logged, counted and recorded.
    private func claimAgentID(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws -> Int {
        let (claim, token) = connections.claim(agentID, peer: peer, close: closeConnection)
        switch claim {
        case .first:
            break
        case .replaced(let previous):
            let reason = "a connection from \(peer) replaced the one from \(previous)"
            logger.warning("agent connection replaced", metadata: ["peer": "\(peer)", "previous": "\(previous)"])
            metrics.agentReplacements.increment()
            try await writer.perform { [agentID] in try $0.recordAgentEvent(agentID: agentID, action: "replaced", reason: reason) }
        case .refused(let previous, let since):
            let error = SessionError.replacedTooOften(since: since, interval: connections.replacementInterval)
            logger.warning("agent connection refused: its id is connected already", metadata: [
                "peer": "\(peer)", "connected": "\(previous)", "reason": "\(error)",
            ])
            metrics.agentReplacementsRefused.increment()
            try await writer.perform { [agentID, peer] in
                try $0.recordAgentEvent(
                    agentID: agentID, action: "replacement-refused", reason: "a connection from \(peer) while \(previous) holds the id: \(error)")
            }
            try? await outbound.write(Envelope(.error(.with { $0.reason = "\(error)" })))
            throw error
        }
        guard let token else { preconditionFailure("a connection that was not refused holds a token") }
        return token
    }

    private func receiveHello(_ frames: inout NIOAsyncChannelInboundStream<Envelope>.AsyncIterator) async throws -> Hello {
        guard let first = try await frames.next() else { throw SessionError.expectedHello(got: "end of stream") }
        guard case .hello(let hello)? = first.payload else {
            throw SessionError.expectedHello(got: first.payload.map { "\($0)".prefix(40).description } ?? "an empty envelope")
        }
        return hello
    }

    private func serve(
        _ frames: inout NIOAsyncChannelInboundStream<Envelope>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        var transfers: [String: Task<Void, Never>] = [:]
        defer { transfers.values.forEach { $0.cancel() } }
        var rate = ByteRate(bytesPerSecond: limits.bytesPerSecond)
        let credits = WindowCredits(limit: limits.windowsInFlight)
        var warnings = LimitWarnings()
        // Windows commit concurrently, up to the agent's limit, in the writer's shared batches.
        try await withThrowingDiscardingTaskGroup { ingests in
            while let envelope = try await frames.next() {
                if let wait = rate.take(envelope.wireSize) {
                    exceeded(.bytesPerSecond, warnings: &warnings, detail: "reading paused \(wait / .milliseconds(1)) ms")
                    try await Task.sleep(for: wait)
                }
                switch envelope.payload {
                case .modelRequest(let request):
                    // A new request for the same model supersedes the old one (the agent saw a bad chunk).
                    transfers[request.sha256]?.cancel()
                    transfers[request.sha256] = Task { [streamer, logger] in
                        do { try await streamer.stream(request, to: outbound) } catch is CancellationError {} catch {
                            logger.warning("model transfer failed", metadata: ["sha256": "\(request.sha256)", "error": "\(error)"])
                            try? await outbound.write(Envelope(.error(.with { $0.reason = "\(error)" })))
                        }
                    }
                case .shadowWindow(let window):
                    if !credits.isAvailable {
                        exceeded(.windowsInFlight, warnings: &warnings, detail: "reading paused until one of its windows commits")
                    }
                    await credits.acquire()
                    ingests.addTask {
                        defer { credits.release() }
                        try await self.ingest(window, outbound: outbound)
                    }
                case .modelReady(let ready):
                    logger.info("agent shadowing", metadata: ["assignment": "\(ready.assignmentID)"])
                case .servingChanged(let change):
                    try await record(change)
                case .modelRejected(let rejection):
                    metrics.modelsRejected.increment()
                    logger.error("agent refused a model", metadata: [
                        "assignment": "\(rejection.assignmentID)", "sha256": "\(rejection.sha256)", "reason": "\(rejection.reason)",
                    ])
                    try await writer.perform { [agentID] ledger in
                        try ledger.recordAgentReport(
                            assignmentID: rejection.assignmentID, agentID: agentID, action: "model-rejected",
                            reason: "refused model \(rejection.sha256): \(rejection.reason)")
                    }
                case .signedMetadataReport(let report):
                    try await record(report)
                case .heartbeat:
                    presence.seen(agentID)
                case .error(let error):
                    logger.warning("agent reported a protocol error", metadata: ["reason": "\(error.reason)"])
                case .hello, .welcome, .assignment, .modelChunk, .windowAck, nil:
                    throw SessionError.unexpected(envelope.payload.map { "\($0)".prefix(40).description } ?? "empty envelope")
                }
            }
        }
    }

    /// Counts every frame that met a limit; logs at most one line per limit per interval per agent.
    private func exceeded(_ limit: AgentLimits.Limit, warnings: inout LimitWarnings, detail: String) {
        metrics.exceeded(limit)
        guard warnings.shouldLog(limit) else { return }
        let value = limit == .windowsInFlight ? limits.windowsInFlight : limits.bytesPerSecond
        logger.warning("agent reached its \(limit.rawValue) limit", metadata: [
            "limit": "\(limit.rawValue)", "value": "\(value)", "effect": "\(detail)",
        ])
    }

    /// Acks only after the window's batch commits; a duplicate is acked again, never stored twice.
    /// A window for an unknown assignment, or for a stage the agent is not a member of, is left
    /// unacknowledged; the second is also recorded in the rollout's history.
    private func ingest(_ window: ShadowWindow, outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        switch try controller.standing(ofAgent: agentID, inAssignment: window.assignmentID) {
        case .member:
            break
        case .unknown:
            logger.warning("window for an unknown assignment kept unacknowledged", metadata: [
                "assignment": "\(window.assignmentID)", "sequence": "\(window.sequence)",
            ])
            try await outbound.write(Envelope(.error(.with { $0.reason = "unknown assignment \(window.assignmentID)" })))
            return
        case .notMember(let rolloutID, let stage):
            let reason = "window \(window.sequence) for assignment \(window.assignmentID) (rollout \(rolloutID), stage \(stage + 1)) "
                + "refused: agent \(agentID) is not a member of that stage"
            logger.warning("window from a non-member refused", metadata: [
                "assignment": "\(window.assignmentID)", "sequence": "\(window.sequence)", "rollout": "\(rolloutID)",
            ])
            metrics.windowsRefused.increment()
            try await writer.perform { [agentID] ledger in
                try ledger.recordAgentReport(assignmentID: window.assignmentID, agentID: agentID, action: "window-refused", reason: reason)
            }
            try await outbound.write(Envelope(.error(.with { $0.reason = reason })))
            return
        }
        let result = try await writer.ingest(WindowRecord(agentID: agentID, window: window))
        if result == .stored { metrics.windowsIngested.increment() }
        try await outbound.write(Envelope(.windowAck(.with {
            $0.assignmentID = window.assignmentID
            $0.sequence = window.sequence
        })))
    }

    private func record(_ change: ServingChanged) async throws {
        logger.notice("agent switched its primary model", metadata: [
            "assignment": "\(change.assignmentID)", "mode": "\(change.mode)", "primary": "\(change.primarySha256)",
            "switch_us": "\(change.switchMicros)", "loaded_from_disk": "\(change.loadedFromDisk)",
        ])
        let record = ServingChangeRecord(
            agentID: agentID, assignmentID: change.assignmentID, at: Date(), mode: change.mode.ledgerName,
            primarySHA256: change.primarySha256, switchMicros: Int64(change.switchMicros), loadedFromDisk: change.loadedFromDisk)
        try await writer.perform { ledger in
            guard try ledger.assignment(id: record.assignmentID) != nil else { return }
            try ledger.recordServingChange(record)
        }
    }

    /// Signed metadata the agent refused (a replay, an expired or a downgraded assignment), or an
    /// assignment that expired while the agent served it cut off: into the rollout's history.
    private func record(_ report: SignedMetadataReport) async throws {
        let action = report.event == .expiredWhileServing ? "metadata-expired-while-serving" : "assignment-refused"
        logger.warning("agent reported signed metadata", metadata: [
            "assignment": "\(report.assignmentID)", "version": "\(report.version)", "event": "\(action)", "reason": "\(report.reason)",
        ])
        try await writer.perform { [agentID] ledger in
            try ledger.recordAgentReport(
                assignmentID: report.assignmentID, agentID: agentID, action: action, reason: "version \(report.version): \(report.reason)")
        }
    }
}

/// When a session last logged each limit it met: an agent pressing on a limit gets one line per
/// interval, not one per frame (the metric counts every frame).
struct LimitWarnings {
    static let interval: Duration = .seconds(10)
    private var lastLogged: [AgentLimits.Limit: ContinuousClock.Instant] = [:]

    mutating func shouldLog(_ limit: AgentLimits.Limit, now: ContinuousClock.Instant = .now) -> Bool {
        if let last = lastLogged[limit], last.duration(to: now) < Self.interval { return false }
        lastLogged[limit] = now
        return true
    }
}

extension Envelope {
    /// The frame's size on the wire, less its length prefix: what the bytes-per-second limit counts.
    var wireSize: Int { (try? serializedBytes() as [UInt8])?.count ?? 0 }
}

extension ServingMode {
    /// The name the ledger's `serving_changes.mode` stores.
    var ledgerName: String {
        switch self {
        case .shadow, .UNRECOGNIZED: "shadow"
        case .promoted: "promoted"
        case .rolledBack: "rolled-back"
        }
    }
}
