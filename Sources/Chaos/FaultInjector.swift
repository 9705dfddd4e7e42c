import DaemonSupport
import FaultInjection
import Foundation
import Operations

/// Applies faults to a running chaos fleet and undoes them: signals to its processes, faults on
/// its agents' proxies. An actor, so that a fault's start and another's end never touch the fleet's
/// process table at once. It knows which processes it stopped on purpose, so a process that exits
/// by itself is told apart and reported.
actor FaultInjector {
    private let fleet: ChaosFleet
    private var killed: Set<String> = []
    private var paused: Set<String> = []
    /// Faults started so far, per kind.
    private(set) var started: [Fault.Kind: Int] = [:]
    /// Faults this machine cannot inject (disk-full faults where mounting is refused), per kind.
    private(set) var notInjected: [Fault.Kind: Int] = [:]
    /// Aimed kills whose process did not reach the crash point while it was armed, per kind.
    private(set) var missed: [Fault.Kind: Int] = [:]
    /// The store's damage while a corrupt-chunks fault lasts.
    private var corruption: StoreCorruption?
    /// Processes that exited by themselves, and restarts that failed: each one a violation.
    private(set) var failures: [String] = []

    init(fleet: ChaosFleet) {
        self.fleet = fleet
    }

    /// Starts `fault`; `end(fault)` undoes it.
    func start(_ fault: Fault) {
        if fleet.disksRefused != nil, [.agentDiskFull, .coordinatorDiskFull].contains(fault.kind) {
            notInjected[fault.kind, default: 0] += 1
            return
        }
        started[fault.kind, default: 0] += 1
        switch fault {
        case .killAgent(let agent, _): sigkill(fleet.agentID(agent))
        case .pauseAgent(let agent, _): sigstop(fleet.agentID(agent))
        case .killCoordinator: sigkill(ChaosFleet.coordinatorName)
        case .pauseCoordinator: sigstop(ChaosFleet.coordinatorName)
        case .partitionAgent(let agent, _): fleet.proxies[agent].partition()
        case .partitionFleet: for proxy in fleet.proxies { proxy.partition() }
        case .delayLink(let agent, let latency, let jitter, _):
            try? fleet.proxies[agent].update {
                $0.latency = latency
                $0.jitter = jitter
            }
        case .throttleLink(let agent, let rate, _): try? fleet.proxies[agent].update { $0.bytesPerSecond = rate }
        case .stallLink(let agent, let time): fleet.proxies[agent].stall(for: time)
        case .cutLink(let agent, let bytes): try? fleet.proxies[agent].cut(afterBytes: bytes)
        case .halfOpenLink(let agent): try? fleet.proxies[agent].halfOpen()
        case .fillAgentDisk(let agent, _): fleet.mountedDisks?.agents[agent].fill()
        case .fillCoordinatorDisk: fleet.mountedDisks?.coordinator.fill()
        case .jumpAgentClock(let agent, let seconds, _): moveClock(agent) { try $0.jump(bySeconds: seconds) }
        case .duplicateSession(let agent): try? fleet.proxies[agent].abandonTargetSide()
        case .corruptChunks(let agent, _):
            do {
                corruption = try StoreCorruption.corrupt(store: fleet.modelStore)
            } catch {
                failures.append("could not corrupt the model store: \(error)")
            }
            restartIntoDownload(agent)
        case .killAgentMidDownload(let agent, _):
            aim(.modelDownload, at: fleet.agentID(agent))
            restartIntoDownload(agent)
        case .killAgentMidSeal(let agent, _): aim(.windowSeal, at: fleet.agentID(agent))
        case .killCoordinatorMidCommit: aim(.ledgerCommit, at: ChaosFleet.coordinatorName)
        }
    }

    func end(_ fault: Fault) {
        switch fault {
        case .killAgent(let agent, _): restart(fleet.agentID(agent))
        case .pauseAgent(let agent, _): sigcont(fleet.agentID(agent))
        case .killCoordinator: restart(ChaosFleet.coordinatorName)
        case .pauseCoordinator: sigcont(ChaosFleet.coordinatorName)
        case .partitionAgent(let agent, _): fleet.proxies[agent].heal()
        case .partitionFleet: for proxy in fleet.proxies { proxy.heal() }
        case .delayLink(let agent, _, _, _), .throttleLink(let agent, _, _): fleet.proxies[agent].clearFaults()
        case .fillAgentDisk(let agent, _): fleet.mountedDisks?.agents[agent].empty()
        case .fillCoordinatorDisk: fleet.mountedDisks?.coordinator.empty()
        case .jumpAgentClock(let agent, _, _): moveClock(agent) { try $0.reset() }
        case .corruptChunks: restoreStore()
        case .killAgentMidDownload(let agent, _): endAim(.modelDownload, at: fleet.agentID(agent), kind: fault.kind)
        case .killAgentMidSeal(let agent, _): endAim(.windowSeal, at: fleet.agentID(agent), kind: fault.kind)
        case .killCoordinatorMidCommit: endAim(.ledgerCommit, at: ChaosFleet.coordinatorName, kind: fault.kind)
        case .stallLink, .cutLink, .halfOpenLink, .duplicateSession: break
        }
    }

    /// Processes that exited although nothing killed them are crashes (`failures`). They are started
    /// again, so that the campaign goes on and the checker sees their spools.
    func restartCrashed() {
        for process in fleet.local.processes where !process.isRunning && !killed.contains(process.name) {
            failures.append("\(process.name) exited by itself with status \(process.exitStatus ?? -1); log: \(process.logFile.path)")
            restart(process.name)
        }
    }

    /// Undoes whatever is still in force (the schedule ends every fault itself; this is for a
    /// campaign interrupted midway).
    func healAll() {
        for trigger in fleet.crashTriggers.values { trigger.disarmAll() }
        for name in paused { sigcont(name) }
        for name in killed { restart(name) }
        for proxy in fleet.proxies {
            proxy.heal()
            proxy.clearFaults()
        }
        for disk in fleet.mountedDisks?.all ?? [] { disk.empty() }
        for agent in fleet.clocks.indices { moveClock(agent) { try $0.reset() } }
        restoreStore()
    }

    /// Arms `point` in the process `name`, which is then expected to die there.
    private func aim(_ point: CrashPoint, at name: String) {
        guard fleet.process(name)?.isRunning == true, let trigger = fleet.crashTriggers[name] else { return }
        do {
            try trigger.arm(point)
            killed.insert(name)
            paused.remove(name)
        } catch {
            failures.append("could not arm \(point.rawValue) in \(name): \(error)")
        }
    }

    /// Disarms `point` in `name` and starts the process again if the point killed it; a point
    /// still armed was not reached, and the process runs on.
    private func endAim(_ point: CrashPoint, at name: String, kind: Fault.Kind) {
        if let trigger = fleet.crashTriggers[name], trigger.disarm(point) {
            missed[kind, default: 0] += 1
        }
        restart(name)
    }

    /// Kills the agent, empties its model cache and starts it again, so that it downloads every
    /// model its assignment names.
    private func restartIntoDownload(_ agent: Int) {
        let name = fleet.agentID(agent)
        let wasKilled = killed.contains(name)
        sigkill(name)
        do {
            try fleet.emptyModelCache(of: agent)
        } catch {
            failures.append("could not empty \(name)'s model cache: \(error)")
        }
        restart(name)
        // An aimed kill armed before the restart still expects the new process to die.
        if wasKilled { killed.insert(name) }
    }

    private func restoreStore() {
        guard let damage = corruption else { return }
        corruption = nil
        do {
            try damage.restore()
        } catch {
            failures.append("could not restore the model store: \(error)")
        }
    }

    private func moveClock(_ agent: Int, _ move: (AgentClock) throws -> Void) {
        do {
            try move(fleet.clocks[agent])
        } catch {
            failures.append("could not move \(fleet.agentID(agent))'s clock: \(error)")
        }
    }

    private func sigkill(_ name: String) {
        guard let process = fleet.process(name), process.isRunning else { return }
        process.kill()
        killed.insert(name)
        paused.remove(name)
    }

    private func sigstop(_ name: String) {
        if fleet.process(name)?.send(SIGSTOP) == true { paused.insert(name) }
    }

    private func sigcont(_ name: String) {
        _ = fleet.process(name)?.send(SIGCONT)
        paused.remove(name)
    }

    private func restart(_ name: String) {
        killed.remove(name)
        if fleet.process(name)?.isRunning == true { return }
        do {
            try fleet.restart(name)
        } catch {
            failures.append("could not restart \(name): \(error)")
        }
    }
}
