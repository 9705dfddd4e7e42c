/// One fault the campaign injects: what it does, to whom, for how long. Agents are numbered from 0
/// in the order the campaign names them (agent-1 is 0).
public enum Fault: Sendable, Equatable {
    /// SIGKILL, then a restart after `downFor` (same configuration, cache and spool).
    case killAgent(Int, downFor: Duration)
    /// SIGSTOP, then SIGCONT after `pausedFor`.
    case pauseAgent(Int, pausedFor: Duration)
    case killCoordinator(downFor: Duration)
    case pauseCoordinator(pausedFor: Duration)
    /// A black-hole partition of one agent's link (see `LinkFaults.isPartitioned`).
    case partitionAgent(Int, lasting: Duration)
    /// Every agent's link black-holed at once.
    case partitionFleet(lasting: Duration)
    case delayLink(Int, latency: Duration, jitter: Duration, lasting: Duration)
    case throttleLink(Int, bytesPerSecond: Int, lasting: Duration)
    /// Bytes read during `lasting` are held, then delivered.
    case stallLink(Int, lasting: Duration)
    /// The agent's open connection is closed after `afterBytes` more bytes (mid-frame, mostly).
    case cutLink(Int, afterBytes: Int)
    /// The coordinator's side of the agent's connection is closed; the agent is not told.
    case halfOpenLink(Int)
    /// The agent's data directory (model cache, window spool) has no room left until `lasting` ends.
    case fillAgentDisk(Int, lasting: Duration)
    /// The coordinator's directory (ledger, model store) has no room left until `lasting` ends.
    case fillCoordinatorDisk(lasting: Duration)
    /// The agent's wall clock steps `bySeconds` ahead (behind when negative), and back after `lasting`.
    case jumpAgentClock(Int, bySeconds: Int, lasting: Duration)
    /// The agent's connection is dropped on its side only: the agent reconnects while the
    /// coordinator still holds the old session (see `FaultProxy.abandonTargetSide`).
    case duplicateSession(Int)
    /// One byte of each model in the coordinator's store is flipped for `lasting`, and the agent,
    /// its model cache emptied, restarts into a download of corrupt chunks.
    case corruptChunks(Int, lasting: Duration)
    /// Kills aimed at a crash point, armed for `armedFor`: the process is killed when it reaches
    /// the point, and started again once the time is up.
    /// The agent, its model cache emptied, restarts into a download and is killed at
    /// `CrashPoint.modelDownload` (a chunk written, the model not yet checked).
    case killAgentMidDownload(Int, armedFor: Duration)
    /// The agent is killed at `CrashPoint.windowSeal` (a window written to the spool, not committed).
    case killAgentMidSeal(Int, armedFor: Duration)
    /// The coordinator is killed at `CrashPoint.ledgerCommit` (a batch of windows written, not committed).
    case killCoordinatorMidCommit(armedFor: Duration)

    /// The kinds, as the campaign counts and prints them.
    public enum Kind: String, Sendable, CaseIterable {
        case agentKill = "agent SIGKILL"
        case agentPause = "agent SIGSTOP/SIGCONT"
        case coordinatorKill = "coordinator SIGKILL"
        case coordinatorPause = "coordinator SIGSTOP/SIGCONT"
        case agentPartition = "partition of one agent"
        case fleetPartition = "partition of all agents"
        case latency = "latency and jitter"
        case bandwidth = "bandwidth cap"
        case stall = "stall"
        case cut = "connection cut mid-stream"
        case halfOpen = "half-open connection"
        case agentDiskFull = "agent disk full"
        case coordinatorDiskFull = "coordinator disk full"
        case clockJump = "agent clock jump"
        case duplicateSession = "duplicated reconnect"
        case corruptChunks = "corrupt chunks"
        case agentKillMidDownload = "agent SIGKILL mid-download"
        case agentKillMidSeal = "agent SIGKILL mid-seal"
        case coordinatorKillMidCommit = "coordinator SIGKILL mid-commit"

        /// Kills aimed at a crash point: the process may not reach it while the fault lasts.
        public var isAimed: Bool { [.agentKillMidDownload, .agentKillMidSeal, .coordinatorKillMidCommit].contains(self) }
    }

    /// What a fault occupies while it lasts: the schedule never puts two faults on one target at once,
    /// so that each one's end undoes exactly what its start did.
    public enum Target: Hashable, Sendable {
        case coordinatorProcess
        case agentProcess(Int)
        case agentLink(Int)
        case agentDisk(Int)
        case coordinatorDisk
        case agentClock(Int)
        /// The coordinator's stored models (their bytes, not the disk they are on).
        case coordinatorStore
    }

    public var kind: Kind {
        switch self {
        case .killAgent: .agentKill
        case .pauseAgent: .agentPause
        case .killCoordinator: .coordinatorKill
        case .pauseCoordinator: .coordinatorPause
        case .partitionAgent: .agentPartition
        case .partitionFleet: .fleetPartition
        case .delayLink: .latency
        case .throttleLink: .bandwidth
        case .stallLink: .stall
        case .cutLink: .cut
        case .halfOpenLink: .halfOpen
        case .fillAgentDisk: .agentDiskFull
        case .fillCoordinatorDisk: .coordinatorDiskFull
        case .jumpAgentClock: .clockJump
        case .duplicateSession: .duplicateSession
        case .corruptChunks: .corruptChunks
        case .killAgentMidDownload: .agentKillMidDownload
        case .killAgentMidSeal: .agentKillMidSeal
        case .killCoordinatorMidCommit: .coordinatorKillMidCommit
        }
    }

    /// How long until the fault is undone; zero for the instant ones (a cut, a half-open connection).
    public var duration: Duration {
        switch self {
        case .killAgent(_, let time), .pauseAgent(_, let time), .killCoordinator(let time), .pauseCoordinator(let time),
            .partitionAgent(_, let time), .partitionFleet(let time), .delayLink(_, _, _, let time), .throttleLink(_, _, let time),
            .stallLink(_, let time), .fillAgentDisk(_, let time), .fillCoordinatorDisk(let time), .jumpAgentClock(_, _, let time),
            .corruptChunks(_, let time), .killAgentMidDownload(_, let time), .killAgentMidSeal(_, let time),
            .killCoordinatorMidCommit(let time):
            time
        case .cutLink, .halfOpenLink, .duplicateSession:
            .zero
        }
    }

    public func targets(agents: Int) -> [Target] {
        switch self {
        case .killAgent(let agent, _), .pauseAgent(let agent, _): [.agentProcess(agent)]
        case .killCoordinator, .pauseCoordinator, .killCoordinatorMidCommit: [.coordinatorProcess]
        case .partitionAgent(let agent, _), .delayLink(let agent, _, _, _), .throttleLink(let agent, _, _), .stallLink(let agent, _),
            .cutLink(let agent, _), .halfOpenLink(let agent), .duplicateSession(let agent):
            [.agentLink(agent)]
        case .killAgentMidSeal(let agent, _): [.agentProcess(agent)]
        // A download needs its link: no partition or cut may keep the agent from reaching the point.
        case .killAgentMidDownload(let agent, _): [.agentProcess(agent), .agentLink(agent)]
        case .corruptChunks(let agent, _): [.agentProcess(agent), .agentLink(agent), .coordinatorStore]
        case .partitionFleet: (0..<agents).map(Target.agentLink)
        case .fillAgentDisk(let agent, _): [.agentDisk(agent)]
        case .fillCoordinatorDisk: [.coordinatorDisk]
        case .jumpAgentClock(let agent, _, _): [.agentClock(agent)]
        }
    }
}

extension Fault: CustomStringConvertible {
    public var description: String {
        func ms(_ duration: Duration) -> String { "\(Int(duration / .milliseconds(1))) ms" }
        switch self {
        case .killAgent(let agent, let down): return "SIGKILL agent-\(agent + 1), restart after \(ms(down))"
        case .pauseAgent(let agent, let paused): return "SIGSTOP agent-\(agent + 1), SIGCONT after \(ms(paused))"
        case .killCoordinator(let down): return "SIGKILL coordinator, restart after \(ms(down))"
        case .pauseCoordinator(let paused): return "SIGSTOP coordinator, SIGCONT after \(ms(paused))"
        case .partitionAgent(let agent, let time): return "partition agent-\(agent + 1) for \(ms(time))"
        case .partitionFleet(let time): return "partition every agent for \(ms(time))"
        case .delayLink(let agent, let latency, let jitter, let time):
            return "agent-\(agent + 1) link: latency \(ms(latency)) + jitter \(ms(jitter)) for \(ms(time))"
        case .throttleLink(let agent, let rate, let time): return "agent-\(agent + 1) link: \(rate) bytes/s for \(ms(time))"
        case .stallLink(let agent, let time): return "agent-\(agent + 1) link: stall for \(ms(time))"
        case .cutLink(let agent, let bytes): return "agent-\(agent + 1) link: cut after \(bytes) bytes"
        case .halfOpenLink(let agent): return "agent-\(agent + 1) link: half-open"
        case .fillAgentDisk(let agent, let time): return "agent-\(agent + 1) disk full for \(ms(time))"
        case .fillCoordinatorDisk(let time): return "coordinator disk full for \(ms(time))"
        case .jumpAgentClock(let agent, let seconds, let time):
            return "agent-\(agent + 1) clock \(seconds >= 0 ? "+" : "")\(seconds) s for \(ms(time))"
        case .duplicateSession(let agent): return "agent-\(agent + 1) link: reconnect beside a stale session"
        case .corruptChunks(let agent, let time): return "corrupt stored models for \(ms(time)), agent-\(agent + 1) downloads them"
        case .killAgentMidDownload(let agent, let down): return "SIGKILL agent-\(agent + 1) mid-download, armed for \(ms(down))"
        case .killAgentMidSeal(let agent, let down): return "SIGKILL agent-\(agent + 1) mid-seal, armed for \(ms(down))"
        case .killCoordinatorMidCommit(let down): return "SIGKILL coordinator mid-commit, armed for \(ms(down))"
        }
    }
}
