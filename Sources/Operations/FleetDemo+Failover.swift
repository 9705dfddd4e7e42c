import Foundation
import Ledger

/// `quantfleet demo --coordinators N`: the coordinator holding the controller term is SIGKILLed
/// once the rollout's first stage has evidence, and the demo says when another took the term over.
struct FailoverDrill: Sendable {
    struct Event: Sendable {
        let at: Date
        let text: String
    }

    let fleet: LocalFleet
    let ledger: LedgerReader
    /// The index of the coordinator holding the term when the rollout started.
    let holder: Int
    let rolloutID: String

    /// The coordinator that holds the controller term now, once one does.
    static func termHolder(in ledger: LedgerReader, fleet: LocalFleet) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let term = try ledger.controllerTerms().last, term.expiresAt > Date(), let index = fleet.coordinatorIndex(holding: term.holder) {
                return index
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw FleetDemo.DemoError(description: "no coordinator took the controller term within 30 s")
    }

    func run(say: @Sendable (String) -> Void) async throws -> [Event] {
        while try ledger.stageEvidence(forRollout: rolloutID).reduce(0, { $0 + $1.windows }) == 0 {
            try await Task.sleep(for: .milliseconds(200))
        }
        let killed = try ledger.controllerTerms().last!
        let name = LocalFleet.coordinatorName(holder)
        fleet.killCoordinator(holder)
        let killedAt = Date()
        say("    SIGKILL to \(name), holder of controller term \(killed.token), in the middle of stage 1")
        var events = [Event(at: killedAt, text: "\(name) SIGKILLed, holding controller term \(killed.token)")]
        while true {
            if let term = try ledger.controllerTerms().last, term.token > killed.token {
                let successor = fleet.coordinatorIndex(holding: term.holder).map(LocalFleet.coordinatorName) ?? term.holder
                let after = String(format: "%.1f s", term.startedAt.timeIntervalSince(killedAt))
                say("    \(successor) took controller term \(term.token) \(after) after the kill")
                events.append(Event(at: term.startedAt, text: "\(successor) took controller term \(term.token), \(after) after the kill"))
                if let decided = try await firstDecision(since: term.startedAt) {
                    let after = String(format: "%.1f s", decided.timeIntervalSince(killedAt))
                    say("    its first decision row \(after) after the kill")
                    events.append(Event(at: decided, text: "first decision row of term \(term.token), \(after) after the kill"))
                }
                return events
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// When the first decision row after `start` was written; nil if none within 30 s (the rollout
    /// may have ended before the successor evaluated).
    private func firstDecision(since start: Date) async throws -> Date? {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let decided = try ledger.decisions(forRollout: rolloutID).map(\.decidedAt).filter({ $0 >= start }).min() {
                return decided
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
