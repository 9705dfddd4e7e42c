import Foundation
import ShadowEval

/// The faults of one campaign, drawn from its seed alone: the same seed, duration, agent count
/// and rate give the same schedule on every run and machine (thread interleavings differ; the
/// checker must hold whatever they are). Duration / mean interval faults arrive at uniformly drawn
/// times (a Poisson process given its count); no two overlap on one target, and every fault has
/// ended by the end of the campaign's fault window.
public struct FaultSchedule: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// From the start of the fault window.
        public var at: Duration
        public var fault: Fault
    }

    public let seed: UInt64
    public let entries: [Entry]

    public struct Settings: Sendable, Equatable {
        public var duration: Duration
        public var agents: Int
        /// Mean time between two faults' arrivals (a fault waits further if its target is busy): the
        /// window holds duration / mean interval faults.
        public var meanInterval: Duration

        public init(duration: Duration, agents: Int, meanInterval: Duration = .milliseconds(800)) {
            self.duration = duration
            self.agents = agents
            self.meanInterval = meanInterval
        }
    }

    /// How often each kind is drawn, in parts. Coordinator faults are rarer: each one disturbs the
    /// whole fleet.
    static let weights: [(Fault.Kind, Int)] = [
        (.agentKill, 10), (.agentPause, 10), (.coordinatorKill, 3), (.coordinatorPause, 3), (.agentPartition, 10),
        (.fleetPartition, 2), (.latency, 14), (.bandwidth, 10), (.stall, 12), (.cut, 14), (.halfOpen, 10), (.agentDiskFull, 8),
        (.coordinatorDiskFull, 3), (.clockJump, 8), (.duplicateSession, 8), (.corruptChunks, 4), (.agentKillMidDownload, 4),
        (.agentKillMidSeal, 5), (.coordinatorKillMidCommit, 3),
    ]

    /// A target rests this long after a fault ends before the next one may start on it.
    static let rest: Duration = .milliseconds(500)
    /// Draws per arrival before it is given up (only near the window's end, with every target busy).
    static let attempts = 20

    /// With `injectsFaults` false, the empty schedule: a fault-free run of the same campaign.
    public static func draw(seed: UInt64, _ settings: Settings, injectsFaults: Bool = true) -> FaultSchedule {
        guard injectsFaults else { return FaultSchedule(seed: seed, entries: []) }
        var random = SeededGenerator(seed: seed)
        var entries: [Entry] = []
        var busyUntil: [Fault.Target: Duration] = [:]
        let windowSeconds = settings.duration / .seconds(1)
        let arrivals = (0..<Int(settings.duration / settings.meanInterval))
            .map { _ in Duration.seconds(Double.random(in: 0..<windowSeconds, using: &random)) }
            .sorted()
        for arrival in arrivals {
            // A fault whose targets stay busy past the window is drawn again, so the count holds.
            for _ in 0..<Self.attempts {
                var fault = drawFault(agents: settings.agents, using: &random)
                let targets = fault.targets(agents: settings.agents)
                let start = targets.map { busyUntil[$0] ?? .zero }.reduce(arrival, max)
                guard start < settings.duration else { continue }
                fault = fault.clipped(to: settings.duration - start)
                for target in targets { busyUntil[target] = start + fault.duration + rest }
                entries.append(Entry(at: start, fault: fault))
                break
            }
        }
        return FaultSchedule(seed: seed, entries: entries.sorted { $0.at < $1.at })
    }

    private static func drawFault(agents: Int, using random: inout SeededGenerator) -> Fault {
        let total = weights.map(\.1).reduce(0, +)
        var pick = Int.random(in: 0..<total, using: &random)
        let kind = weights.first { entry in
            defer { pick -= entry.1 }
            return pick < entry.1
        }!.0
        let agent = Int.random(in: 0..<agents, using: &random)
        func millis(_ range: ClosedRange<Int>) -> Duration { .milliseconds(Int.random(in: range, using: &random)) }
        switch kind {
        case .agentKill: return .killAgent(agent, downFor: millis(200...4000))
        case .agentPause: return .pauseAgent(agent, pausedFor: millis(300...6000))
        case .coordinatorKill: return .killCoordinator(downFor: millis(200...3000))
        case .coordinatorPause: return .pauseCoordinator(pausedFor: millis(300...5000))
        case .agentPartition: return .partitionAgent(agent, lasting: millis(500...8000))
        case .fleetPartition: return .partitionFleet(lasting: millis(500...5000))
        case .latency: return .delayLink(agent, latency: millis(10...400), jitter: millis(0...150), lasting: millis(1000...10000))
        case .bandwidth: return .throttleLink(agent, bytesPerSecond: Int.random(in: 4096...131_072, using: &random), lasting: millis(1000...10000))
        case .stall: return .stallLink(agent, lasting: millis(100...3000))
        case .cut: return .cutLink(agent, afterBytes: Int.random(in: 0...4096, using: &random))
        case .halfOpen: return .halfOpenLink(agent)
        case .agentDiskFull: return .fillAgentDisk(agent, lasting: millis(500...8000))
        case .coordinatorDiskFull: return .fillCoordinatorDisk(lasting: millis(500...5000))
        case .clockJump:
            // Back by up to 10 minutes (to before the campaign's certificates were issued), or ahead
            // by up to an hour (well within a signed assignment's lifetime): the steps NTP makes.
            let back = Bool.random(using: &random)
            let seconds = back ? -Int.random(in: 60...600, using: &random) : Int.random(in: 60...3600, using: &random)
            return .jumpAgentClock(agent, bySeconds: seconds, lasting: millis(1000...10000))
        case .duplicateSession: return .duplicateSession(agent)
        case .corruptChunks: return .corruptChunks(agent, lasting: millis(1000...5000))
        case .agentKillMidDownload: return .killAgentMidDownload(agent, armedFor: millis(2000...6000))
        case .agentKillMidSeal: return .killAgentMidSeal(agent, armedFor: millis(1000...5000))
        case .coordinatorKillMidCommit: return .killCoordinatorMidCommit(armedFor: millis(200...3000))
        }
    }

    /// Faults per kind.
    public var counts: [Fault.Kind: Int] {
        Dictionary(grouping: entries, by: \.fault.kind).mapValues(\.count)
    }

    /// A short digest of the schedule, printed so that two runs can be seen to share one.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in entries.map({ "\($0.at / .milliseconds(1)) \($0.fault)" }).joined(separator: "\n").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

extension Fault {
    /// The same fault, ending no later than `limit` from its start.
    func clipped(to limit: Duration) -> Fault {
        let time = min(duration, limit)
        switch self {
        case .killAgent(let agent, _): return .killAgent(agent, downFor: time)
        case .pauseAgent(let agent, _): return .pauseAgent(agent, pausedFor: time)
        case .killCoordinator: return .killCoordinator(downFor: time)
        case .pauseCoordinator: return .pauseCoordinator(pausedFor: time)
        case .partitionAgent(let agent, _): return .partitionAgent(agent, lasting: time)
        case .partitionFleet: return .partitionFleet(lasting: time)
        case .delayLink(let agent, let latency, let jitter, _): return .delayLink(agent, latency: latency, jitter: jitter, lasting: time)
        case .throttleLink(let agent, let rate, _): return .throttleLink(agent, bytesPerSecond: rate, lasting: time)
        case .stallLink(let agent, _): return .stallLink(agent, lasting: time)
        case .fillAgentDisk(let agent, _): return .fillAgentDisk(agent, lasting: time)
        case .fillCoordinatorDisk: return .fillCoordinatorDisk(lasting: time)
        case .jumpAgentClock(let agent, let seconds, _): return .jumpAgentClock(agent, bySeconds: seconds, lasting: time)
        case .corruptChunks(let agent, _): return .corruptChunks(agent, lasting: time)
        case .killAgentMidDownload(let agent, _): return .killAgentMidDownload(agent, armedFor: time)
        case .killAgentMidSeal(let agent, _): return .killAgentMidSeal(agent, armedFor: time)
        case .killCoordinatorMidCommit: return .killCoordinatorMidCommit(armedFor: time)
        case .cutLink, .halfOpenLink, .duplicateSession: return self
        }
    }
}
