import Foundation
import Inference
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends the rows of an .npz file to agents as Open Inference Protocol infer requests, one row per
/// request (id `replay-<row>`), spread round-robin over the agents, with the row's label (if the
/// file has a `label` array) as the request parameter `label`, or later, as a reviewer would, to
/// the agents' `/v2/labels` (`sendLabels`).
public struct TrafficReplay: Sendable {
    public struct Options: Sendable {
        public var data: URL
        public var agents: [URL]
        public var model: String
        public var concurrency: Int
        public var limit: Int?
        /// How long one request may take; an agent that stops answering (paused, partitioned from
        /// its clients) fails its requests after this instead of holding the replay.
        public var requestTimeout: Duration
        /// false: requests go without their labels, which `sendLabels` sends afterwards.
        public var labelsInRequests: Bool

        public init(
            data: URL, agents: [URL], model: String, concurrency: Int = 8, limit: Int? = nil, requestTimeout: Duration = .seconds(60),
            labelsInRequests: Bool = true
        ) {
            self.data = data
            self.agents = agents
            self.model = model
            self.concurrency = concurrency
            self.limit = limit
            self.requestTimeout = requestTimeout
            self.labelsInRequests = labelsInRequests
        }
    }

    public struct Progress: Sendable {
        public var total: Int
        public var succeeded: Int
        public var failed: Int
        public var elapsed: Duration
        public var firstError: String?

        public var requestsPerSecond: Double {
            let seconds = elapsed.seconds
            return seconds > 0 ? Double(succeeded + failed) / seconds : 0
        }
    }

    public struct ReplayError: Error, CustomStringConvertible {
        public let description: String
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func run(progress: @escaping @Sendable (Progress) -> Void) async throws -> Progress {
        guard !options.agents.isEmpty else { throw ReplayError(description: "no agent URL given") }
        let arrays = try NPZ.read(contentsOf: options.data)
        let metadata = try await fetchMetadata(from: options.agents[0])
        guard let input = metadata.inputs.first else { throw ReplayError(description: "model '\(options.model)' declares no input") }
        guard let rows = arrays[input.name] ?? arrays["input"] ?? (arrays.count == 1 ? arrays.values.first : nil) else {
            throw ReplayError(description: "\(options.data.path) has no array named '\(input.name)' or 'input' (it has \(arrays.keys.sorted()))")
        }
        let labels = arrays["label"]?.int64s
        let rowCount = min(rows.shape.first ?? 0, options.limit ?? .max)
        guard rowCount > 0 else { throw ReplayError(description: "\(options.data.path): no rows to replay") }
        if let labels, labels.count < rowCount {
            throw ReplayError(description: "\(options.data.path): \(labels.count) labels for \(rowCount) rows")
        }
        let rowShape = [1] + rows.shape.dropFirst()
        let rowWidth = rowShape.reduce(1, *)
        let values = rows.floats

        let tally = ReplayTally(total: rowCount)
        let next = RowCounter()
        let session = URLSession(configuration: .ephemeral)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, options.concurrency) {
                group.addTask {
                    while let row = next.take(below: rowCount) {
                        let body = try InferRequest(
                            id: "replay-\(row)",
                            parameters: options.labelsInRequests ? labels.map { ["label": Int($0[row])] } : nil,
                            inputs: [.init(
                                name: input.name, shape: rowShape, datatype: input.datatype,
                                data: Array(values[row * rowWidth..<(row + 1) * rowWidth]))]
                        ).encoded()
                        let agent = options.agents[row % options.agents.count]
                        let outcome = await send(body, to: agent, session: session)
                        progress(tally.record(outcome))
                    }
                }
            }
            try await group.waitForAll()
        }
        return tally.snapshot()
    }

    /// What the agents answered to the late labels.
    public struct LabelsSent: Sendable, Equatable {
        public var accepted = 0
        public var notAwaited = 0

        public init(accepted: Int = 0, notAwaited: Int = 0) {
            self.accepted = accepted
            self.notAwaited = notAwaited
        }
    }

    /// Sends the labels of the rows `run` replayed to the agents that answered them, `batchSize` to a
    /// `/v2/labels` request.
    public func sendLabels(batchSize: Int = 500) async throws -> LabelsSent {
        let arrays = try NPZ.read(contentsOf: options.data)
        guard let labels = arrays["label"]?.int64s else { throw ReplayError(description: "\(options.data.path) has no label array") }
        let rowCount = min(labels.count, options.limit ?? .max)
        var sent = LabelsSent()
        for (index, agent) in options.agents.enumerated() {
            let rows = Array(stride(from: index, to: rowCount, by: options.agents.count))
            for start in stride(from: 0, to: rows.count, by: batchSize) {
                let batch = rows[start..<min(rows.count, start + batchSize)].map { LabelBody.Entry(id: "replay-\($0)", label: Int(labels[$0])) }
                var request = URLRequest(url: agent.appendingPathComponent("v2/labels"))
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = try JSONEncoder().encode(LabelBody(labels: batch))
                let (data, response) = try await URLSession.shared.data(for: request)
                guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                    throw ReplayError(description: "POST \(request.url!.absoluteString) answered \((response as? HTTPURLResponse)?.statusCode ?? 0): "
                        + String(decoding: data.prefix(300), as: UTF8.self))
                }
                let answer = try JSONDecoder().decode(LabelAnswer.self, from: data)
                sent.accepted += answer.accepted
                sent.notAwaited += answer.notAwaited.count
            }
        }
        return sent
    }

    private struct LabelBody: Encodable {
        struct Entry: Encodable {
            var id: String
            var label: Int
        }
        var labels: [Entry]
    }

    private struct LabelAnswer: Decodable {
        var accepted: Int
        var notAwaited: [String]

        enum CodingKeys: String, CodingKey {
            case accepted
            case notAwaited = "not_awaited"
        }
    }

    private func send(_ body: Data, to agent: URL, session: URLSession) async -> String? {
        var request = URLRequest(url: agent.appendingPathComponent("v2/models/\(options.model)/infer"))
        request.httpMethod = "POST"
        request.timeoutInterval = options.requestTimeout.seconds
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        do {
            let (data, response) = try await session.data(for: request)
            guard let status = (response as? HTTPURLResponse)?.statusCode, status == 200 else {
                let code = (response as? HTTPURLResponse)?.statusCode ?? 0
                return "\(agent.absoluteString) answered \(code): \(String(decoding: data.prefix(300), as: UTF8.self))"
            }
            return nil
        } catch {
            return "\(agent.absoluteString): \(error.localizedDescription)"
        }
    }

    private struct ModelMetadata: Decodable {
        struct Input: Decodable {
            var name: String
            var datatype: String
        }
        var inputs: [Input]
    }

    private func fetchMetadata(from agent: URL) async throws -> ModelMetadata {
        let url = agent.appendingPathComponent("v2/models/\(options.model)")
        let (data, response) = try await URLSession.shared.data(from: url)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw ReplayError(description: "GET \(url.absoluteString) answered \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return try JSONDecoder().decode(ModelMetadata.self, from: data)
    }
}

/// The JSON body of one OIP infer request.
private struct InferRequest: Encodable {
    struct Input: Encodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var data: [Float]
    }

    var id: String
    var parameters: [String: Int]?
    var inputs: [Input]

    func encoded() throws -> Data { try JSONEncoder().encode(self) }
}

extension Duration {
    /// The duration in seconds, as Foundation's intervals count them.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
