import DaemonSupport
import Foundation
import FleetProtocol
import Logging
import NIOCore
import NIOSSL
import ShadowEval
import NIOConcurrencyHelpers

/// One simulated agent: a real TLS 1.3 connection with its own certificate, speaking the fleet
/// protocol as `quantfleet-agent` does (Hello with labels, assignments, model downloads or a cache,
/// windows resent until acked, heartbeats, reconnects with jittered backoff), with windows drawn
/// from `SimulatedEvidence` instead of inference.
final class SimulatedAgent: Sendable {
    enum SessionError: Error, CustomStringConvertible {
        case closedBeforeWelcome
        case refused(String)
        case expectedWelcome(String)

        var description: String {
            switch self {
            case .closedBeforeWelcome: "the coordinator closed the connection before its Welcome"
            case .refused(let reason): "the coordinator refused the session: \(reason)"
            case .expectedWelcome(let got): "expected Welcome, got \(got)"
            }
        }
    }

    let id: String
    let labels: [String: String]
    let source: SocketAddress
    let plan: LoadPlan
    let windowsEnd: WindowDeadline
    let measurements: LoadMeasurements
    let logger: Logger
    private let tls: NIOSSLContext
    private let state: NIOLockedValueBox<SimulatedAgentState>

    init(
        id: String, labels: [String: String], source: SocketAddress, tls: NIOSSLContext, seed: UInt64,
        plan: LoadPlan, windowsEnd: WindowDeadline, measurements: LoadMeasurements, logger: Logger
    ) {
        self.id = id
        self.labels = labels
        self.source = source
        self.tls = tls
        self.plan = plan
        self.windowsEnd = windowsEnd
        self.measurements = measurements
        self.logger = logger
        self.state = NIOLockedValueBox(SimulatedAgentState(seed: seed))
    }

    var unackedWindows: Int { state.withLockedValue { $0.unacked.count } }

    /// Connects and reconnects until cancelled, to the next coordinator each time.
    func run() async {
        let started = ContinuousClock.now
        var everWelcomed = false
        var backoff = Backoff(plan.backoff)
        var next = state.withLockedValue { Int.random(in: 0..<plan.ports.count, using: &$0.generator) }
        while !Task.isCancelled {
            let port = plan.ports[next]
            next = (next + 1) % plan.ports.count
            var welcomed = false
            measurements.attempting()
            do {
                let connection = try await FleetClient.connect(
                    host: plan.host, port: port, tls: tls, serverHostname: plan.serverHostname,
                    localAddress: source, logger: logger)
                try await connection.channel.executeThenClose { inbound, outbound in
                    try await session(inbound, outbound) {
                        welcomed = true
                        measurements.welcomed(firstAfter: everWelcomed ? nil : started.duration(to: .now))
                        everWelcomed = true
                    }
                }
            } catch {
                logger.debug("session ended", metadata: ["error": "\(error)"])
            }
            if welcomed {
                measurements.disconnected()
                backoff.reset()
            } else {
                measurements.failedToConnect()
            }
            try? await Task.sleep(for: backoff.nextDelay())
        }
    }

    private func session(
        _ inbound: NIOAsyncChannelInboundStream<Envelope>, _ outbound: NIOAsyncChannelOutboundWriter<Envelope>,
        welcomed: () -> Void
    ) async throws {
        let cached = state.withLockedValue { Array($0.cached) }
        try await outbound.write(Envelope(.hello(.with {
            $0.protocolVersions = [FleetFraming.protocolVersion]
            $0.capabilities = ["model-chunks", "shadow-windows"]
            $0.agentVersion = "quantfleet-loadgen"
            $0.kernelPath = "simulated"
            $0.cachedModels = cached
            $0.labels = labels
        })))
        var frames = inbound.makeAsyncIterator()
        guard let first = try await frames.next() else { throw SessionError.closedBeforeWelcome }
        let heartbeat: Duration
        switch first.payload {
        case .welcome(let welcome): heartbeat = .milliseconds(max(100, Int(welcome.heartbeatIntervalMs)))
        case .error(let error): throw SessionError.refused(error.reason)
        default: throw SessionError.expectedWelcome("\(first.payload.map { "\($0)" } ?? "an empty envelope")".prefix(40).description)
        }
        welcomed()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.sendWindows(outbound) }
            group.addTask { try await self.sendHeartbeats(outbound, every: heartbeat) }
            while let envelope = try await frames.next() {
                try await handle(envelope, outbound: outbound)
            }
            group.cancelAll()
        }
    }

    private func handle(_ envelope: Envelope, outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        switch envelope.payload {
        case .assignment(let assignment):
            measurements.assigned(assignment.assignmentID)
            switch assignment.mode {
            case .promoted: measurements.observed(.ship)
            case .rolledBack: measurements.observed(.stayFP16)
            default: break
            }
            let (missing, ready) = state.withLockedValue { state in
                let missing = state.take(assignment, download: plan.download)
                return (missing, state.ready)
            }
            for sha256 in missing {
                measurements.requestedModel()
                try await outbound.write(Envelope(.modelRequest(.with { $0.sha256 = sha256 })))
            }
            if ready { try await announceReady(assignment, outbound: outbound) }
        case .modelChunk(let chunk):
            measurements.received(modelBytes: chunk.data.count)
            let (result, assignment) = state.withLockedValue { ($0.receive(chunk), $0.assignment) }
            switch result {
            case .complete(let ready):
                measurements.receivedModel(verified: true)
                if ready, let assignment { try await announceReady(assignment, outbound: outbound) }
            case .corrupt:
                measurements.receivedModel(verified: false)
                logger.warning("a model's bytes did not match its address; fetching it again", metadata: ["sha256": "\(chunk.sha256)"])
                try await outbound.write(Envelope(.modelRequest(.with { $0.sha256 = chunk.sha256 })))
            case .progressing, .unexpected:
                break
            }
        case .windowAck(let ack):
            let sentAt = state.withLockedValue { $0.acknowledge(ack) }
            measurements.acked(latency: sentAt.map { $0.duration(to: .now) })
        case .error(let error):
            measurements.coordinatorError()
            logger.debug("coordinator reported an error", metadata: ["reason": "\(error.reason)"])
        case .heartbeat, .welcome, .hello, .modelRequest, .modelReady, .shadowWindow, .servingChanged, .modelRejected, .signedMetadataReport, nil:
            break
        }
    }

    private func announceReady(_ assignment: Assignment, outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        try await outbound.write(Envelope(.modelReady(.with {
            $0.assignmentID = assignment.assignmentID
            $0.referenceSha256 = assignment.reference.sha256
            $0.candidateSha256 = assignment.candidate.sha256
        })))
    }

    /// Windows left unacked by an earlier connection first, then one window per interval (from a
    /// random phase, so the fleet's windows spread over the interval) until the windows' end.
    private func sendWindows(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        for window in state.withLockedValue({ $0.pending }) {
            try await send(window, outbound: outbound, resend: true)
        }
        let phase = state.withLockedValue { Double.random(in: 0..<1, using: &$0.generator) }
        try await Task.sleep(for: plan.windowInterval * phase)
        while !windowsEnd.hasPassed() {
            if let window = state.withLockedValue({ $0.makeWindow(evidence: plan.evidence) }) {
                measurements.made()
                try await send(window, outbound: outbound, resend: false)
            }
            try await Task.sleep(for: plan.windowInterval)
        }
    }

    private func send(_ window: ShadowWindow, outbound: NIOAsyncChannelOutboundWriter<Envelope>, resend: Bool) async throws {
        state.withLockedValue { $0.markSent(window, at: .now) }
        try await outbound.write(Envelope(.shadowWindow(window)))
        measurements.sent(resend: resend)
    }

    private func sendHeartbeats(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>, every interval: Duration) async throws {
        while true {
            try await Task.sleep(for: interval)
            try await outbound.write(Envelope(.heartbeat(.with { $0.sentAtMs = UInt64(Date().timeIntervalSince1970 * 1000) })))
        }
    }
}
