import FleetProtocol
import Foundation
import Inference
import Logging
import NIOCore

/// The agent's side of one connection: Hello, then assignments, model downloads, windows and acks.
struct LinkSession {
    enum LinkError: Error, CustomStringConvertible {
        case expectedWelcome(got: String)
        case refused(reason: String)
        case unexpected(String)

        var description: String {
            switch self {
            case .expectedWelcome(let got): "the coordinator's first frame must be Welcome, got \(got)"
            case .refused(let reason): "the coordinator refused the session: \(reason)"
            case .unexpected(let what): "unexpected \(what) from the coordinator"
            }
        }
    }

    let labels: [String: String]
    let cache: ModelCache
    let spool: WindowSpool
    let state: ServingState
    let notifier: WindowNotifier
    let logger: Logger

    /// Runs until the connection ends; `onWelcome` fires once the coordinator accepted us.
    func run(
        inbound: NIOAsyncChannelInboundStream<Envelope>, outbound: NIOAsyncChannelOutboundWriter<Envelope>,
        onWelcome: @escaping @Sendable () -> Void
    ) async throws {
        let cached = await cache.cachedAddresses()
        try await outbound.write(Envelope(.hello(.with {
            $0.protocolVersions = [FleetFraming.protocolVersion]
            $0.capabilities = ["model-chunks", "shadow-windows", "kernel:\(InferenceSession.integerKernelPath)"]
            $0.agentVersion = AgentApp.version
            $0.kernelPath = InferenceSession.integerKernelPath
            $0.cachedModels = cached
            $0.labels = labels
        })))
        // Windows and heartbeats flow only once the coordinator has welcomed us.
        let (welcomed, welcome) = AsyncStream.makeStream(of: Duration.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await serve(inbound, outbound: outbound) { heartbeat in
                    onWelcome()
                    welcome.yield(heartbeat)
                    welcome.finish()
                }
            }
            group.addTask {
                guard let heartbeat = await welcomed.first(where: { _ in true }) else { return }
                try await withThrowingTaskGroup(of: Void.self) { senders in
                    senders.addTask { try await sendWindows(outbound) }
                    senders.addTask { try await sendHeartbeats(outbound, every: heartbeat) }
                    try await senders.next()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func serve(
        _ inbound: NIOAsyncChannelInboundStream<Envelope>, outbound: NIOAsyncChannelOutboundWriter<Envelope>,
        welcomed: (Duration) -> Void
    ) async throws {
        var downloads = AssignmentDownloads()
        var isWelcomed = false
        for try await envelope in inbound {
            if !isWelcomed {
                switch envelope.payload {
                case .welcome(let welcome):
                    isWelcomed = true
                    logger.info("connected to coordinator", metadata: [
                        "agent_id": "\(welcome.agentID)", "protocol": "\(welcome.protocolVersion)",
                    ])
                    welcomed(.milliseconds(max(100, Int(welcome.heartbeatIntervalMs))))
                    continue
                case .error(let error): throw LinkError.refused(reason: error.reason)
                default: throw LinkError.expectedWelcome(got: Self.name(of: envelope))
                }
            }
            switch envelope.payload {
            case .assignment(let assignment):
                try await accept(assignment, downloads: &downloads, outbound: outbound)
            case .modelChunk(let chunk):
                switch try await cache.receive(chunk) {
                case .progressing, .ignored:
                    break
                case .refetch(let offset):
                    try await outbound.write(Envelope(.modelRequest(.with {
                        $0.sha256 = chunk.sha256
                        $0.offset = offset
                    })))
                case .complete:
                    downloads.pending.remove(chunk.sha256)
                    if downloads.pending.isEmpty, let assignment = downloads.assignment {
                        try await activate(assignment, outbound: outbound)
                    }
                }
            case .windowAck(let ack):
                try spool.acknowledge(assignmentID: ack.assignmentID, sequence: ack.sequence)
            case .heartbeat:
                break
            case .error(let error):
                logger.warning("coordinator reported an error", metadata: ["reason": "\(error.reason)"])
            case .hello, .welcome, .modelRequest, .shadowWindow, .modelReady, nil:
                throw LinkError.unexpected(Self.name(of: envelope))
            }
        }
    }

    /// Models of the assignment still being downloaded.
    private struct AssignmentDownloads {
        var assignment: Assignment?
        var pending: Set<String> = []
    }

    private func accept(
        _ assignment: Assignment, downloads: inout AssignmentDownloads, outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        logger.info("assignment received", metadata: [
            "assignment": "\(assignment.assignmentID)", "model": "\(assignment.modelName)",
            "sampling_rate": "\(assignment.samplingRate)", "window_size": "\(assignment.windowSize)",
        ])
        if state.current?.assignment == assignment { return }
        downloads.assignment = assignment
        downloads.pending = []
        for model in [assignment.reference, assignment.candidate] where !(await cache.has(model.sha256)) {
            guard downloads.pending.insert(model.sha256).inserted else { continue }
            let offset = await cache.resumeOffset(model.sha256)
            try await outbound.write(Envelope(.modelRequest(.with {
                $0.sha256 = model.sha256
                $0.offset = offset
            })))
        }
        if downloads.pending.isEmpty {
            try await activate(assignment, outbound: outbound)
        }
    }

    /// Verifies both models against their addresses, loads them, and starts serving and shadowing.
    private func activate(_ assignment: Assignment, outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        let reference = try InferenceSession(contentsOf: try await cache.verifiedFile(assignment.reference.sha256))
        let candidate = try InferenceSession(contentsOf: try await cache.verifiedFile(assignment.candidate.sha256))
        try state.activate(assignment, reference: reference, candidate: candidate)
        logger.notice("serving reference, shadowing candidate", metadata: [
            "reference": "\(assignment.reference.sha256)", "candidate": "\(assignment.candidate.sha256)",
            "kernel_path": "\(candidate.kernelPath)",
        ])
        try await outbound.write(Envelope(.modelReady(.with {
            $0.assignmentID = assignment.assignmentID
            $0.referenceSha256 = assignment.reference.sha256
            $0.candidateSha256 = assignment.candidate.sha256
        })))
    }

    /// Sends every unacknowledged window once per connection, oldest first, and new ones as they are sealed.
    private func sendWindows(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>) async throws {
        var sent: Set<String> = []
        for await _ in notifier.subscribe() {
            for window in try spool.pending() where sent.insert("\(window.assignmentID)/\(window.sequence)").inserted {
                try await outbound.write(Envelope(.shadowWindow(window)))
            }
        }
    }

    private func sendHeartbeats(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>, every interval: Duration) async throws {
        while true {
            try await Task.sleep(for: interval)
            try await outbound.write(Envelope(.heartbeat(.with { $0.sentAtMs = UInt64(Date().timeIntervalSince1970 * 1000) })))
        }
    }

    private static func name(of envelope: Envelope) -> String {
        envelope.payload.map { "\($0)".prefix(48).description } ?? "an empty envelope"
    }
}
