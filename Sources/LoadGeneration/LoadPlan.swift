import DaemonSupport
import Foundation

/// What a load run does: where the coordinators are, how many agents join how fast, how often each
/// sends a window, what the windows contain, and for how long.
public struct LoadPlan: Sendable {
    public var host: String
    /// The agent ports of the coordinators on `host` (several when they share a PostgreSQL ledger).
    /// Each agent starts at one chosen at random and moves to the next whenever a session ends, as
    /// `quantfleet-agent` does with `coordinators:`.
    public var ports: [Int]
    /// The DNS name the coordinator's certificate must carry.
    public var serverHostname = "localhost"
    public var agents: Int
    /// Agents started per second (the ramp); the coordinator's handshake admission may slow it further.
    public var rampPerSecond: Double
    public var windowInterval: Duration
    /// How long windows are sent, from the start (unless `LoadGenerator.endWindows` ends them sooner);
    /// then the run waits up to `drainTimeout` for acks.
    public var duration: Duration
    public var drainTimeout: Duration = .seconds(30)
    public var evidence: SimulatedEvidence
    /// Download the models of each assignment (true) or report them cached.
    public var download = false
    /// The reconnect backoff of Config/agent.yaml, so the fleet retries as real agents do.
    public var backoff = Backoff.Configuration(initialMillis: 200, maximumMillis: 10_000)
    /// Agent ids are `<prefix>-00001`, ... ; labels are `site` and `device-class`, spread over the fleet.
    public var idPrefix = "sim"
    public var deviceClasses = ["pi5", "jetson", "x86"]
    public var seed: UInt64 = 1

    public init(host: String, ports: [Int], agents: Int, rampPerSecond: Double, windowInterval: Duration,
                duration: Duration, evidence: SimulatedEvidence) {
        self.host = host
        self.ports = ports
        self.agents = agents
        self.rampPerSecond = rampPerSecond
        self.windowInterval = windowInterval
        self.duration = duration
        self.evidence = evidence
    }

    public enum PlanError: Error, CustomStringConvertible {
        case outOfRange(option: String, value: String, expected: String)
        public var description: String {
            switch self {
            case .outOfRange(let option, let value, let expected): "\(option) \(value) is out of range: expected \(expected)"
            }
        }
    }

    public func validate() throws {
        guard !ports.isEmpty, ports.allSatisfy({ (1...65_535).contains($0) }) else {
            throw PlanError.outOfRange(option: "--port", value: "\(ports)", expected: "at least one port, each 1 to 65535")
        }
        guard agents >= 1 && agents <= SourceAddresses.capacity else {
            throw PlanError.outOfRange(option: "--agents", value: "\(agents)", expected: "1 to \(SourceAddresses.capacity)")
        }
        guard rampPerSecond > 0 else {
            throw PlanError.outOfRange(option: "--ramp-per-second", value: "\(rampPerSecond)", expected: "more than 0")
        }
        guard windowInterval > .zero else {
            throw PlanError.outOfRange(option: "--window-interval", value: "\(windowInterval)", expected: "more than 0 s")
        }
        guard duration > .zero else {
            throw PlanError.outOfRange(option: "--duration", value: "\(duration)", expected: "more than 0 s")
        }
        guard (0..<1).contains(evidence.trueDrop) && evidence.trueDrop + evidence.candidateGainRate <= 1 else {
            throw PlanError.outOfRange(option: "--true-drop", value: "\(evidence.trueDrop * 100) %", expected: "0 % to 99 %")
        }
    }

    public func agentID(_ index: Int) -> String { "\(idPrefix)-\(String(format: "%05d", index + 1))" }

    func labels(_ index: Int) -> [String: String] {
        ["site": "site-\(index % 10)", "device-class": deviceClasses[index % deviceClasses.count]]
    }
}

/// Each agent's source address, spread over 127.0.0.0/8 (127.a.b.c, each part 1-250): one
/// address's ephemeral ports (about 28,000) would otherwise cap the connections to one coordinator port.
public enum SourceAddresses {
    public static let capacity = 250 * 250 * 250

    public static func address(of index: Int) -> String {
        precondition((0..<capacity).contains(index), "agent index \(index) beyond \(capacity) source addresses")
        return "127.\(1 + index / 62_500).\(1 + (index / 250) % 250).\(1 + index % 250)"
    }
}
