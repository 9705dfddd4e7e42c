import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// Labelled traffic in rounds, each to whichever agents serve the model at that moment (agents not
/// yet enrolled in a rollout's stage do not serve it until they are), until stopped. A staged
/// rollout needs this: the set of serving agents grows as stages advance.
public final class TrafficRounds: Sendable {
    private let stopped = Atomic(false)
    private let answered = Atomic(0)
    private let rounds = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// Starts sending `roundSize` requests per round from `data` to the ready ones of `agents`.
    public static func start(
        agents: [URL], data: URL, model: String, roundSize: Int = 300, concurrency: Int = 4, requestTimeout: Duration = .seconds(60)
    ) -> TrafficRounds {
        let traffic = TrafficRounds()
        let task = Task {
            while !traffic.stopped.load(ordering: .relaxed) {
                var serving: [URL] = []
                for agent in agents where await HealthProbe.isReady(agent, model: model) { serving.append(agent) }
                guard !serving.isEmpty else {
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
                let round = try? await TrafficReplay(options: .init(
                    data: data, agents: serving, model: model, concurrency: concurrency, limit: roundSize,
                    requestTimeout: requestTimeout)).run { _ in }
                traffic.answered.add(round?.succeeded ?? 0, ordering: .relaxed)
            }
        }
        traffic.rounds.withLockedValue { $0 = task }
        return traffic
    }

    /// Requests answered so far.
    public var answeredRequests: Int { answered.load(ordering: .relaxed) }

    /// Stops after the current round, never by cancelling a request in flight (FoundationNetworking
    /// on Linux crashes on a cancelled request); returns the requests answered.
    @discardableResult
    public func stop() async -> Int {
        stopped.store(true, ordering: .relaxed)
        await rounds.withLockedValue { $0 }?.value
        return answeredRequests
    }
}
