import ShadowEval
import NIOConcurrencyHelpers

/// What the simulated agents measured, shared by all of them: one lock, taken for a few counter
/// updates per window or connection, far below the cost of the TLS work around them.
public final class LoadMeasurements: Sendable {
    public struct Snapshot: Sendable {
        /// Connections attempted and those that ended before the coordinator's Welcome.
        public var connectAttempts = 0
        public var failedConnects = 0
        /// Sessions welcomed, the agents connected now, and each agent's first Welcome after its start.
        public var welcomes = 0
        public var connected = 0
        public var firstConnect = LogHistogram()
        public var agentsEverConnected = 0
        public var firstAttemptAt: ContinuousClock.Instant?
        public var lastFirstWelcomeAt: ContinuousClock.Instant?
        /// Windows made (each once), sent (with resends), resent after a reconnect, acked (first ack
        /// of each), and acks for a window acked before.
        public var windowsMade = 0
        public var windowsSent = 0
        public var windowsResent = 0
        public var windowsAcked = 0
        public var duplicateAcks = 0
        public var ackLatencyMillis = LogHistogram()
        /// Model downloads (--download): bytes received, files whose hash matched and files that did
        /// not, from the first request to the last file verified.
        public var modelBytesReceived = 0
        public var modelsVerified = 0
        public var modelsCorrupt = 0
        public var firstModelRequestAt: ContinuousClock.Instant?
        public var lastModelVerifiedAt: ContinuousClock.Instant?
        public var errorsFromCoordinator = 0
        /// Times all agents were connected after some had been lost: how long the fleet took to return.
        public var outages: [Outage] = []
        public var currentOutage: Outage?
        /// The decision the agents saw on the wire: the first PROMOTED (ship) or ROLLED_BACK (stay-fp16).
        public var observedOutcome: Outcome?
        public var observedAt: ContinuousClock.Instant?
        /// Assignments the coordinator sent, to find their rollout's decision in the ledger.
        public var assignmentsSeen: Set<String> = []

        public var windowsUnacked: Int { windowsMade - windowsAcked }
    }

    public struct Outage: Sendable {
        public var began: ContinuousClock.Instant
        public var lowest: Int
        public var ended: ContinuousClock.Instant?
    }

    private let agents: Int
    private let state = NIOLockedValueBox(Snapshot())

    public init(agents: Int) {
        self.agents = agents
    }

    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    func attempting(at now: ContinuousClock.Instant = .now) {
        state.withLockedValue {
            $0.connectAttempts += 1
            if $0.firstAttemptAt == nil { $0.firstAttemptAt = now }
        }
    }

    func failedToConnect() {
        state.withLockedValue { $0.failedConnects += 1 }
    }

    /// A session was welcomed; `sinceStart` is set for the agent's first one.
    func welcomed(firstAfter sinceStart: Duration?, at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            state.welcomes += 1
            state.connected += 1
            if let sinceStart {
                state.agentsEverConnected += 1
                state.firstConnect.record(sinceStart.milliseconds)
                state.lastFirstWelcomeAt = now
            }
            if state.connected == agents, var outage = state.currentOutage {
                outage.ended = now
                state.outages.append(outage)
                state.currentOutage = nil
            }
        }
    }

    /// A welcomed session ended.
    func disconnected(at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            if state.connected == agents { state.currentOutage = Outage(began: now, lowest: agents) }
            state.connected -= 1
            if var outage = state.currentOutage {
                outage.lowest = min(outage.lowest, state.connected)
                state.currentOutage = outage
            }
        }
    }

    func made() { state.withLockedValue { $0.windowsMade += 1 } }
    func sent(resend: Bool) {
        state.withLockedValue {
            $0.windowsSent += 1
            if resend { $0.windowsResent += 1 }
        }
    }

    /// An ack arrived; `latency` is from the window's last send (nil: acked before, a duplicate).
    func acked(latency: Duration?) {
        state.withLockedValue { state in
            guard let latency else { return state.duplicateAcks += 1 }
            state.windowsAcked += 1
            state.ackLatencyMillis.record(latency.milliseconds)
        }
    }

    func requestedModel(at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { if $0.firstModelRequestAt == nil { $0.firstModelRequestAt = now } }
    }

    func received(modelBytes: Int) { state.withLockedValue { $0.modelBytesReceived += modelBytes } }

    func receivedModel(verified: Bool, at now: ContinuousClock.Instant = .now) {
        state.withLockedValue {
            if verified {
                $0.modelsVerified += 1
                $0.lastModelVerifiedAt = now
            } else {
                $0.modelsCorrupt += 1
            }
        }
    }

    func coordinatorError() { state.withLockedValue { $0.errorsFromCoordinator += 1 } }

    func assigned(_ assignmentID: String) {
        state.withLockedValue { _ = $0.assignmentsSeen.insert(assignmentID) }
    }

    func observed(_ outcome: Outcome, at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            guard state.observedOutcome == nil else { return }
            state.observedOutcome = outcome
            state.observedAt = now
        }
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
