import FleetProtocol
import Foundation
import Hummingbird
import Ledger
import ShadowEval
import NIOCore

/// The admin API's endpoints (`Protocols/admin/openapi.yaml`). Every operator action goes through
/// the rollout controller, which records it in the ledger with the operator and the reason.
struct AdminRoutes: Sendable {
    let ledger: Ledger
    let controller: RolloutController
    let presence: AgentPresence
    let stagingDirectory: URL

    func register(on router: Router<AdminRequestContext>) {
        let api = router.group("v1")
        api.get("models") { _, _ in try ledger.models().map(AdminAPI.Model.init) }
        api.post("models") { request, context in try await pushModel(request, context: context) }
        api.get("agents") { _, _ in try agents() }
        api.get("rollouts") { _, _ in try ledger.rollouts().map(status(of:)) }
        api.post("rollouts") { request, context in
            let body = try await decode(AdminAPI.CreateRollout.self, from: request, context: context)
            let rollout = try await refusals { try await controller.createRollout(body, by: context.operatorIdentity) }
            return EditedResponse(status: .created, response: try status(of: rollout))
        }
        api.get("rollouts/:id") { _, context in try status(of: try rollout(context)) }
        action("start", on: api) { controller, id, actor, body in try await controller.start(id, by: actor, reason: body.reason ?? "") }
        action("pause", on: api) { controller, id, actor, body in try await controller.pause(id, by: actor, reason: body.reason ?? "") }
        action("resume", on: api) { controller, id, actor, body in try await controller.resume(id, by: actor, reason: body.reason ?? "") }
        action("abort", on: api) { controller, id, actor, body in try await controller.abort(id, by: actor, reason: body.reason ?? "") }
        action("rollback", on: api) { controller, id, actor, body in
            try await controller.rollBack(id, by: actor, reason: body.reason ?? "")
        }
        action("promote", on: api) { controller, id, actor, body in
            guard body.force == true else {
                throw HTTPError(.conflict, message: "rollouts promote themselves when their last stage ships; "
                    + "to promote now, send \"force\": true with a reason")
            }
            guard let reason = body.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HTTPError(.badRequest, message: "a forced promotion needs a reason; it is recorded with your name")
            }
            try await controller.forcePromote(id, by: actor, reason: reason)
        }
    }

    /// POST /v1/rollouts/{id}/<verb> with an optional `AdminAPI.Action` body; answers the new status.
    private func action(
        _ verb: String, on api: RouterGroup<AdminRequestContext>,
        _ perform: @escaping @Sendable (RolloutController, String, String, AdminAPI.Action) async throws -> Void
    ) {
        api.post("rollouts/:id/\(verb)") { request, context in
            let id = try rollout(context).id
            let body = try await decodeAction(request)
            try await refusals { try await perform(controller, id, context.operatorIdentity, body) }
            return try status(of: try ledger.rollout(id: id))
        }
    }

    /// The body is the model file; `name` and `precision` come as query parameters. It is written
    /// to a staging file first and moved into the content-addressed store once complete.
    private func pushModel(_ request: Request, context: AdminRequestContext) async throws -> EditedResponse<AdminAPI.Model> {
        guard let name = request.uri.queryParameters.get("name"), !name.isEmpty else {
            throw HTTPError(.badRequest, message: "give the model's name as the query parameter `name`")
        }
        let precision = request.uri.queryParameters.get("precision") ?? "fp32"
        let task = try taskKind(from: request.uri.queryParameters)
        try FileManager.default.createDirectory(at: stagingDirectory, withIntermediateDirectories: true)
        let staging = stagingDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        FileManager.default.createFile(atPath: staging.path, contents: nil)
        let file = try FileHandle(forWritingTo: staging)
        var received = 0
        do {
            for try await buffer in request.body {
                received += buffer.readableBytes
                guard received <= context.maxUploadSize else {
                    throw HTTPError(.contentTooLarge, message: "models larger than \(context.maxUploadSize) bytes are refused")
                }
                try file.write(contentsOf: buffer.readableBytesView)
            }
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
        guard received > 0 else { throw HTTPError(.badRequest, message: "the request body (the model file) is empty") }
        let model = try await controller.register(fileAt: staging.path, precision: precision, name: name, task: task)
        context.logger.notice("model pushed", metadata: ["sha256": "\(model.sha256)", "by": "\(context.operatorIdentity)"])
        return EditedResponse(status: .created, response: AdminAPI.Model(model))
    }

    /// `task` and its parameters (every query parameter but `name` and `precision`, e.g. `min-cosine`,
    /// `box-format`); top-1 classification when absent. Unknown and misplaced parameters are refused.
    private func taskKind(from query: Parameters) throws -> TaskKind {
        var parameters: [String: String] = [:]
        for (name, value) in query where !["name", "precision", "task"].contains(name) {
            parameters[String(name)] = String(value)
        }
        do {
            return try TaskKind(name: query.get("task") ?? "classification", parameters: parameters)
        } catch {
            throw HTTPError(.badRequest, message: error.description)
        }
    }

    private func agents() throws -> [AdminAPI.Agent] {
        let connected = controller.broadcast.connectedAgents
        return try ledger.agents().map { agent in
            AdminAPI.Agent(
                id: agent.id, labels: agent.labels, kernelPath: agent.kernelPath, agentVersion: agent.agentVersion,
                connected: connected.contains(agent.id), firstSeenAt: agent.firstSeenAt,
                lastSeenAt: max(agent.lastSeenAt, presence.lastSeen(agent.id) ?? agent.lastSeenAt),
                rollouts: try ledger.openRollouts(ofAgent: agent.id))
        }
    }

    private func status(of rollout: RolloutRecord) throws -> AdminAPI.Rollout {
        let plan = try ledger.plan(forRollout: rollout.id)
        return AdminAPI.Rollout(
            id: rollout.id, modelName: rollout.modelName, reference: rollout.referenceSHA256,
            candidate: rollout.candidateSHA256, task: try ledger.model(sha256: rollout.candidateSHA256).taskSummary,
            state: plan?.state.rawValue ?? rollout.status.rawValue,
            outcome: rollout.outcome?.rawValue, stage: plan?.stage, stages: plan?.stages, target: plan?.target,
            minimumAgentVersion: plan?.minimumAgentVersion?.description,
            createdBy: plan?.createdBy,
            members: try ledger.members(ofRollout: rollout.id).map { AdminAPI.Member(agentID: $0.agentID, stage: $0.stage) },
            decision: try ledger.latestDecision(forRollout: rollout.id).map(Self.decision),
            stageDecisions: try ledger.stageDecisions(forRollout: rollout.id).map(Self.decision),
            events: try ledger.events(forRollout: rollout.id).map {
                AdminAPI.Event(at: $0.at, actor: $0.actor, action: $0.action, stage: $0.stage, reason: $0.reason)
            })
    }

    private static func decision(_ record: DecisionRecord) -> AdminAPI.Decision {
        let decision = record.decision
        return AdminAPI.Decision(
            stage: record.stage, outcome: decision.outcome.rawValue, metric: decision.metric, n: decision.n,
            statistic: decision.statistic, lowerBound: decision.lowerBound, upperBound: decision.upperBound,
            confidence: decision.confidence, policyVersion: decision.policyVersion, decidedAt: record.decidedAt,
            reason: decision.reason, shipBelow: decision.shipBelow, stayFP16Above: decision.stayFP16Above,
            slices: record.slices.map {
                AdminAPI.SliceDecision(
                    slice: $0.slice.description, outcome: $0.decision.outcome.rawValue, metric: $0.decision.metric,
                    n: $0.decision.n, statistic: $0.decision.statistic, lowerBound: $0.decision.lowerBound,
                    upperBound: $0.decision.upperBound)
            })
    }

    /// The body is optional: an empty one is an action without a reason.
    private func decodeAction(_ request: Request) async throws -> AdminAPI.Action {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        guard buffer.readableBytes > 0 else { return AdminAPI.Action() }
        do {
            return try JSONDecoder().decode(AdminAPI.Action.self, from: Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "the body is not a valid Action JSON object ({\"reason\": ..., \"force\": ...}): \(error)")
        }
    }

    private func decode<Body: Decodable>(_ type: Body.Type, from request: Request, context: AdminRequestContext) async throws -> Body {
        do {
            return try await request.decode(as: type, context: context)
        } catch {
            throw HTTPError(.badRequest, message: "the body is not a valid \(type) JSON object: \(error)")
        }
    }

    /// The ledger's and controller's refusals, as HTTP errors carrying their own message.
    private func refusals<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch {
            throw Self.httpError(for: error)
        }
    }

    private func rollout(_ context: AdminRequestContext) throws -> RolloutRecord {
        let id = try context.parameters.require("id")
        do {
            return try ledger.rollout(id: id)
        } catch {
            throw Self.httpError(for: error)
        }
    }

    private static func httpError(for error: any Error) -> any Error {
        switch error {
        case LedgerError.unknownRollout, LedgerError.unknownModel:
            HTTPError(.notFound, message: "\(error)")
        case LedgerError.invalidStages, LedgerError.invalidSamplingRate, LedgerError.invalidWindowSize,
             ControllerError.invalidMinimumAgentVersion:
            HTTPError(.badRequest, message: "\(error)")
        case is LedgerError, is ControllerError:
            HTTPError(.conflict, message: "\(error)")
        default:
            error
        }
    }
}

extension AdminAPI.Model: ResponseEncodable {}
extension AdminAPI.Agent: ResponseEncodable {}
extension AdminAPI.Rollout: ResponseEncodable {}

extension AdminAPI.Model {
    init(_ record: ModelRecord) {
        self.init(
            sha256: record.sha256, name: record.name, precision: record.precision, sizeBytes: record.sizeBytes,
            registeredAt: record.registeredAt, task: record.taskSummary,
            signed: record.signature != nil)
    }
}
