import DaemonSupport
import FleetProtocol
import Foundation
import Inference
import Logging
import NIOCore
import ShadowEval

/// The agent's side of one connection: Hello, then assignments, model downloads, windows and acks.
struct LinkSession {
    enum LinkError: Error, CustomStringConvertible {
        case expectedWelcome(got: String)
        case refused(reason: String)
        case unexpected(String)
        /// The agent could not record an assignment it accepted (its disk full, say); the session
        /// ends so that the coordinator sends it again.
        case unrecorded(assignmentID: String, reason: String)
        /// The coordinator served a model whose bytes never matched its address. The session ends,
        /// refused and reported, and the next one asks again: a damaged store may be repaired by then.
        case unverifiable(sha256: String, reason: String)

        var description: String {
            switch self {
            case .expectedWelcome(let got): "the coordinator's first frame must be Welcome, got \(got)"
            case .refused(let reason): "the coordinator refused the session: \(reason)"
            case .unexpected(let what): "unexpected \(what) from the coordinator"
            case .unrecorded(let assignmentID, let reason): "assignment \(assignmentID) could not be recorded: \(reason)"
            case .unverifiable(let sha256, let reason): "model \(sha256) from the coordinator is refused: \(reason)"
            }
        }
    }

    let labels: [String: String]
    let cache: ModelCache
    let spool: WindowSpool
    let state: ServingState
    let notifier: WindowNotifier
    /// The signing keys the agent trusts (for assignments and manifests) and its anti-rollback state;
    /// with no keys, unsigned assignments and models are accepted.
    let gate: SignedAssignmentGate
    /// The float kernel path the noise floor runs the reference on; nil: no floor.
    let noiseFloorPath: String?
    /// What the loaded models of every model name may hold together.
    let memoryBudget: ModelMemoryBudget
    let metrics: AgentMetrics
    let logger: Logger
    /// Called once the models of an assignment are loaded: loading leaves behind as much freed
    /// memory as the models take (the file, the decoded protobuf, the model check's own session),
    /// which a host that keeps freed memory for the next inference would otherwise keep for good.
    var releaseFreedMemory: @Sendable () -> Void = {}

    /// Runs until the connection ends; `onWelcome` fires once the coordinator accepted us, with the
    /// interval at which it sends heartbeats.
    func run(
        inbound: NIOAsyncChannelInboundStream<Envelope>, outbound: NIOAsyncChannelOutboundWriter<Envelope>,
        onWelcome: @escaping @Sendable (Duration) -> Void
    ) async throws {
        let cached = await cache.cachedAddresses()
        try await outbound.write(Envelope(.hello(.with {
            $0.protocolVersions = [FleetFraming.protocolVersion]
            $0.capabilities = [
                "model-chunks", "shadow-windows", Self.signedAssignmentsCapability, Self.lateLabelsCapability,
                Self.severalModelsCapability, "kernel:\(InferenceSession.integerKernelPath)",
            ]
            $0.agentVersion = AgentApp.version
            $0.kernelPath = InferenceSession.integerKernelPath
            $0.cachedModels = cached
            $0.labels = labels
        })))
        defer { metrics.coordinatorConnected.set(to: 0) }
        // Windows and heartbeats flow only once the coordinator has welcomed us.
        let (welcomed, welcome) = AsyncStream.makeStream(of: Welcomed.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await serve(inbound, outbound: outbound) { welcomed in
                    onWelcome(welcomed.heartbeat)
                    welcome.yield(welcomed)
                    welcome.finish()
                }
            }
            group.addTask {
                guard let welcomed = await welcomed.first(where: { _ in true }) else { return }
                try await withThrowingTaskGroup(of: Void.self) { senders in
                    senders.addTask { try await sendWindows(outbound, labelDeltas: welcomed.takesLabelDeltas) }
                    senders.addTask { try await sendHeartbeats(outbound, every: welcomed.heartbeat) }
                    try await senders.next()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func serve(
        _ inbound: NIOAsyncChannelInboundStream<Envelope>, outbound: NIOAsyncChannelOutboundWriter<Envelope>,
        welcomed: (Welcomed) -> Void
    ) async throws {
        var downloads = AssignmentDownloads()
        var isWelcomed = false
        // A coordinator without "several-models" sends one assignment at a time, each replacing the last.
        var severalModels = false
        // An older coordinator cannot read reports of signed metadata; they are only logged then.
        var reports = SignedMetadataReports(outbound: nil)
        for try await envelope in inbound {
            if !isWelcomed {
                switch envelope.payload {
                case .welcome(let welcome):
                    isWelcomed = true
                    logger.info("connected to coordinator", metadata: [
                        "agent_id": "\(welcome.agentID)", "protocol": "\(welcome.protocolVersion)",
                    ])
                    metrics.coordinatorConnected.set(to: 1)
                    if welcome.capabilities.contains(Self.signedAssignmentsCapability) { reports = SignedMetadataReports(outbound: outbound) }
                    severalModels = welcome.capabilities.contains(Self.severalModelsCapability)
                    welcomed(Welcomed(
                        heartbeat: .milliseconds(max(100, Int(welcome.heartbeatIntervalMs))),
                        takesLabelDeltas: welcome.capabilities.contains(Self.lateLabelsCapability)))
                    for expired in gate.expiredWhileServing() {
                        logger.warning("serving an assignment whose signed metadata expired", metadata: [
                            "assignment": "\(expired.assignmentID)", "version": "\(expired.version)",
                        ])
                        try await reports.send(expired)
                    }
                    continue
                case .error(let error): throw LinkError.refused(reason: error.reason)
                default: throw LinkError.expectedWelcome(got: Self.name(of: envelope))
                }
            }
            switch envelope.payload {
            case .assignment(let assignment):
                try await accept(assignment, severalModels: severalModels, downloads: &downloads, reports: reports, outbound: outbound)
            case .modelChunk(let chunk):
                switch try await cache.receive(chunk) {
                case .progressing:
                    metrics.modelBytesReceived.increment(by: Int64(chunk.data.count))
                case .ignored:
                    break
                case .refetch(let offset):
                    for expired in downloads.waiting(for: chunk.sha256) where gate.hasExpired(expired.assignment) {
                        downloads.remove(expired.assignment.modelName)
                        try await refuseExpiredDownload(of: expired.assignment, reports: reports)
                    }
                    guard !downloads.waiting(for: chunk.sha256).isEmpty else { continue }
                    try await outbound.write(Envelope(.modelRequest(.with {
                        $0.sha256 = chunk.sha256
                        $0.offset = offset
                    })))
                case .complete:
                    metrics.modelBytesReceived.increment(by: Int64(chunk.data.count))
                    for ready in downloads.arrived(chunk.sha256) {
                        try await activate(ready.assignment, task: ready.task, arrived: ready.arrived, outbound: outbound)
                    }
                case .rejected(let reason):
                    let refused = downloads.waiting(for: chunk.sha256)
                    guard !refused.isEmpty else { continue }
                    for download in refused {
                        downloads.remove(download.assignment.modelName)
                        try await reject(chunk.sha256, of: download.assignment, reason: reason, outbound: outbound)
                    }
                    throw LinkError.unverifiable(sha256: chunk.sha256, reason: reason)
                }
            case .windowAck(let ack):
                try spool.acknowledge(assignmentID: ack.assignmentID, sequence: ack.sequence)
            case .heartbeat:
                break
            case .error(let error):
                logger.warning("coordinator reported an error", metadata: ["reason": "\(error.reason)"])
            case .hello, .welcome, .modelRequest, .shadowWindow, .modelReady, .servingChanged, .modelRejected, .signedMetadataReport, nil:
                throw LinkError.unexpected(Self.name(of: envelope))
            }
        }
    }

    /// Models still being downloaded, for each model name's newest assignment.
    private struct AssignmentDownloads {
        struct Download {
            var assignment: Assignment
            var task: TaskKind
            var arrived: ContinuousClock.Instant
            var pending: Set<String>
        }

        private var byName: [String: Download] = [:]

        subscript(modelName: String) -> Download? {
            get { byName[modelName] }
            set { byName[modelName] = newValue }
        }

        /// The downloads still waiting for this model (one model may serve several names).
        func waiting(for sha256: String) -> [Download] {
            byName.keys.sorted().compactMap { byName[$0] }.filter { $0.pending.contains(sha256) }
        }

        mutating func remove(_ modelName: String) { byName[modelName] = nil }

        mutating func keepOnly(_ modelName: String) { byName = byName.filter { $0.key == modelName } }

        /// Notes the model complete; returns (and forgets) the downloads it completed.
        mutating func arrived(_ sha256: String) -> [Download] {
            var complete: [Download] = []
            for name in byName.keys.sorted() {
                guard var download = byName[name], download.pending.remove(sha256) != nil else { continue }
                if download.pending.isEmpty {
                    byName[name] = nil
                    complete.append(download)
                } else {
                    byName[name] = download
                }
            }
            return complete
        }
    }

    /// Takes an assignment for its model name: checks its signed metadata (signature, expiry,
    /// version), verifies the signed manifests of the models its mode needs, then switches between
    /// resident models at once, or (within the memory budget) downloads what is missing and loads
    /// it. A renewal of what serves only renews. Other model names are left as they are, unless the
    /// coordinator sends one assignment at a time (no `severalModels`): then it replaces them.
    private func accept(
        _ received: Assignment, severalModels: Bool, downloads: inout AssignmentDownloads, reports: SignedMetadataReports,
        outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        let assignment: Assignment
        do {
            assignment = try gate.admit(received)
        } catch let refusal as AssignmentSigning.Refusal {
            metrics.assignmentsRefused.increment()
            logger.error("assignment refused", metadata: ["assignment": "\(received.assignmentID)", "reason": "\(refusal)"])
            return try await reports.send(.with {
                $0.assignmentID = received.assignmentID
                $0.version = refusal.version
                $0.event = .refused
                $0.reason = "\(refusal)"
            })
        } catch {
            // Not a refusal: the agent could not record the version it accepted (its disk full, say).
            // The coordinator sends an assignment once per change, so dropping it would leave the
            // agent on the previous one for good; ending the session makes the coordinator send it
            // again once the agent is back.
            logger.error("assignment could not be recorded; reconnecting to receive it again", metadata: [
                "assignment": "\(received.assignmentID)", "error": "\(error)",
            ])
            throw LinkError.unrecorded(assignmentID: received.assignmentID, reason: "\(error)")
        }
        logger.info("assignment received", metadata: [
            "assignment": "\(assignment.assignmentID)", "model": "\(assignment.modelName)", "mode": "\(assignment.mode)",
            "sampling_rate": "\(assignment.samplingRate)", "window_size": "\(assignment.windowSize)",
            "version": "\(assignment.version)",
        ])
        // The switch is timed from here: the accepted version is on disk (an fsync whose cost depends
        // on the device, not on whether the models were resident).
        let arrived = ContinuousClock.now
        let name = assignment.modelName
        if !severalModels {
            state.keepOnly(name)
            gate.servesOnly(name)
            downloads.keepOnly(name)
            showResidency()
        }
        if let current = state.active(named: name)?.assignment, current.withoutExpiry == assignment.withoutExpiry {
            gate.serves(assignment)
            return
        }
        if downloads[name]?.assignment.withoutExpiry == assignment.withoutExpiry {
            downloads[name]?.assignment = assignment  // renewed while its models download: they carry on
            return
        }
        downloads.remove(name)
        let needed = ServingState.Active.needed(by: assignment)
        let task: TaskKind
        do {
            task = try TaskKind(assignment.task)
        } catch {
            return try await reject(assignment.candidate.sha256, of: assignment, reason: "its task is invalid: \(error)", outbound: outbound)
        }
        if gate.requiresSignatures {
            for model in needed {
                do {
                    try ManifestSigning.verify(model, trusting: gate.keys)
                } catch {
                    return try await reject(model.sha256, of: assignment, reason: "\(error)", outbound: outbound)
                }
            }
        }
        if state.switchResident(to: assignment, task: task) {
            return try await announce(assignment, arrived: arrived, loadedFromDisk: false, outbound: outbound)
        }
        // Nothing is downloaded for an assignment whose files alone are over the budget.
        if let reason = memoryBudget.refusal(
            needed: needed.reduce(0) { $0 + Int($1.sizeBytes) }, others: state.residentBytes(besides: name), estimated: true)
        {
            return try await reject(Self.primary(of: assignment).sha256, of: assignment, reason: reason, outbound: outbound)
        }
        var download = AssignmentDownloads.Download(assignment: assignment, task: task, arrived: arrived, pending: [])
        for model in needed where !(await cache.has(model.sha256)) {
            guard download.pending.insert(model.sha256).inserted else { continue }
            // Another name's assignment may be downloading it already: its chunks complete both.
            guard downloads.waiting(for: model.sha256).isEmpty else { continue }
            let offset = await cache.resumeOffset(model.sha256)
            try await outbound.write(Envelope(.modelRequest(.with {
                $0.sha256 = model.sha256
                $0.offset = offset
            })))
        }
        if download.pending.isEmpty {
            try await activate(assignment, task: task, arrived: arrived, outbound: outbound)
        } else {
            downloads[name] = download
        }
    }

    /// Verifies the models against their addresses, loads them, and serves the assignment.
    private func activate(
        _ assignment: Assignment, task: TaskKind, arrived: ContinuousClock.Instant, outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        guard let reference = try await load(assignment.reference.sha256, of: assignment, outbound: outbound) else { return }
        var candidate: InferenceSession?
        if assignment.mode != .rolledBack {
            guard let loaded = try await load(assignment.candidate.sha256, of: assignment, outbound: outbound) else { return }
            candidate = loaded
        }
        // The noise floor's copy of the reference, while a candidate is compared with it.
        let referenceElsewhere = candidate == nil ? nil : try noiseFloorPath.map { try reference.onFloatKernelPath($0) }
        let loaded = ServingState.Active.residentBytes(of: [reference, candidate, referenceElsewhere])
        if let reason = memoryBudget.refusal(needed: loaded, others: state.residentBytes(besides: assignment.modelName), estimated: false) {
            releaseFreedMemory()
            return try await reject(Self.primary(of: assignment).sha256, of: assignment, reason: reason, outbound: outbound)
        }
        try state.activate(assignment, task: task, reference: reference, candidate: candidate, referenceElsewhere: referenceElsewhere)
        releaseFreedMemory()
        try await announce(assignment, arrived: arrived, loadedFromDisk: true, outbound: outbound)
    }

    /// The model an assignment is about: the candidate, or the reference it goes back to after a rollback.
    private static func primary(of assignment: Assignment) -> ModelRef {
        assignment.mode == .rolledBack ? assignment.reference : assignment.candidate
    }

    /// The resident-memory and served-names gauges, after any change to what is loaded.
    private func showResidency() {
        metrics.modelBytesResident.set(to: Double(state.residentBytes))
        metrics.modelsServed.set(to: Double(state.names.count))
    }

    /// Loads a verified model, or refuses it with every reason the engine cannot run it (each
    /// unsupported operator and element type, as `quantfleet check` lists them): nil when refused.
    private func load(
        _ sha256: String, of assignment: Assignment, outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws -> InferenceSession? {
        let check: ModelCheck
        do {
            check = try ModelCheck(modelData: Data(contentsOf: try await cache.verifiedFile(sha256)))
        } catch {
            try await reject(sha256, of: assignment, reason: "the engine cannot read it: \(error)", outbound: outbound)
            return nil
        }
        guard let session = check.session else {
            try await reject(sha256, of: assignment, reason: "the engine cannot run it: \(check.problems.joined(separator: "; "))", outbound: outbound)
            return nil
        }
        if let value = (session.inputs + session.outputs).first(where: { $0.container != .tensor }) {
            try await reject(sha256, of: assignment, reason: "'\(value.name)' is a \(value.container.rawValue); the Open Inference Protocol carries tensors only", outbound: outbound)
            return nil
        }
        return session
    }

    /// Tells the coordinator what now serves: shadowing started, or the primary model switched (with
    /// how long the switch took). A promotion also starts the former reference's residency clock.
    private func announce(
        _ assignment: Assignment, arrived: ContinuousClock.Instant, loadedFromDisk: Bool,
        outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        let switched = arrived.duration(to: .now)
        gate.serves(assignment)
        showResidency()
        let primary = assignment.mode == .promoted ? assignment.candidate : assignment.reference
        logger.notice("serving", metadata: [
            "assignment": "\(assignment.assignmentID)", "mode": "\(assignment.mode)", "primary": "\(primary.sha256)",
            "switch_us": "\(switched / .microseconds(1))", "loaded_from_disk": "\(loadedFromDisk)",
        ])
        guard assignment.mode != .shadow else {
            try await outbound.write(Envelope(.modelReady(.with {
                $0.assignmentID = assignment.assignmentID
                $0.referenceSha256 = assignment.reference.sha256
                $0.candidateSha256 = assignment.candidate.sha256
            })))
            return
        }
        metrics.servingSwitch.record(switched)
        if assignment.mode == .promoted {
            let resident = Duration.milliseconds(Int64(assignment.referenceResidentMs))
            Task { [self] in
                try await Task.sleep(for: resident)
                state.releaseReference(of: assignment)
                showResidency()
            }
        }
        try await outbound.write(Envelope(.servingChanged(.with {
            $0.assignmentID = assignment.assignmentID
            $0.mode = assignment.mode
            $0.primarySha256 = primary.sha256
            $0.switchMicros = UInt64(max(0, switched / .microseconds(1)))
            $0.loadedFromDisk = loadedFromDisk
        })))
    }

    /// Stops downloading for an assignment whose signed metadata expired on the way: a renewal from
    /// the coordinator starts the download again where it stopped.
    private func refuseExpiredDownload(of assignment: Assignment, reports: SignedMetadataReports) async throws {
        let reason = AssignmentSigning.Refusal.expired(
            assignmentID: assignment.assignmentID, version: assignment.version, expiredAtMillis: assignment.expiresAtMs,
            nowMillis: gate.clock.nowMillis)
        metrics.assignmentsRefused.increment()
        logger.error("download stopped", metadata: ["assignment": "\(assignment.assignmentID)", "reason": "\(reason)"])
        try await reports.send(.with {
            $0.assignmentID = assignment.assignmentID
            $0.version = assignment.version
            $0.event = .refused
            $0.reason = "download stopped: \(reason)"
        })
    }

    /// Refuses a model of an assignment: it is never loaded, and the coordinator hears why.
    private func reject(
        _ sha256: String, of assignment: Assignment, reason: String, outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async throws {
        metrics.modelsRejected.increment()
        logger.error("model refused", metadata: [
            "assignment": "\(assignment.assignmentID)", "sha256": "\(sha256)", "reason": "\(reason)",
        ])
        try await outbound.write(Envelope(.modelRejected(.with {
            $0.assignmentID = assignment.assignmentID
            $0.sha256 = sha256
            $0.reason = reason
        })))
    }

    /// What the coordinator's Welcome settled: its heartbeat interval, and whether it takes late-label deltas.
    private struct Welcomed: Sendable {
        var heartbeat: Duration
        var takesLabelDeltas: Bool
    }

    /// Sends every unacknowledged window once per connection, oldest first, and new ones as they are
    /// sealed; late-label deltas too, if the coordinator takes them.
    private func sendWindows(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>, labelDeltas: Bool) async throws {
        var sent: Set<String> = []
        for await _ in notifier.subscribe() {
            for window in try spool.pendingForSending(includingLabelDeltas: labelDeltas)
            where sent.insert("\(window.assignmentID)/\(window.sequence)").inserted {
                try await outbound.write(Envelope(.shadowWindow(window)))
            }
        }
    }

    private func sendHeartbeats(_ outbound: NIOAsyncChannelOutboundWriter<Envelope>, every interval: Duration) async throws {
        while true {
            try await Task.sleep(for: interval)
            try await outbound.write(Envelope(.heartbeat(.with { $0.sentAtMs = gate.clock.nowMillis })))
        }
    }

    static let signedAssignmentsCapability = "signed-assignments"
    /// Assignments of several model names at once, each replacing only its own name's.
    static let severalModelsCapability = "several-models"
    /// Late-label deltas (`WindowSpool+LateLabels`) go only to a coordinator that shares it.
    static let lateLabelsCapability = "late-labels"

    private static func name(of envelope: Envelope) -> String {
        envelope.payload.map { "\($0)".prefix(48).description } ?? "an empty envelope"
    }
}

/// Where reports of signed metadata go: to a coordinator that shares "signed-assignments", else
/// nowhere (an older coordinator would take the unknown message for a protocol violation).
private struct SignedMetadataReports {
    let outbound: NIOAsyncChannelOutboundWriter<Envelope>?

    func send(_ report: SignedMetadataReport) async throws {
        try await outbound?.write(Envelope(.signedMetadataReport(report)))
    }
}
