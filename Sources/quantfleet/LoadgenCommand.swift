import ArgumentParser
import DaemonSupport
import Foundation
import LoadGeneration
import Logging
import ShadowEval

struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Simulated agents against a real coordinator: many TLS connections per process, each with its own certificate.",
        discussion: """
            Each simulated agent presents a client certificate issued in process from the fleet CA (CN = its id, \
            cached in --cert-cache), says Hello with labels, takes its assignments, downloads the models \
            (--download) or reports them cached, sends a window every --window-interval with samples drawn at \
            --true-drop, resends unacked windows after reconnecting, heartbeats, and backs off with jitter. \
            Source addresses are spread over 127.0.0.0/8. It stops after --duration (and the last acks), then \
            prints what it measured and whether the decision seen on the wire matches the true drop.
            """)

    @Option(help: "The coordinator's agent listener address.")
    var host = "127.0.0.1"

    @Option(help: "The coordinator's agent listener port; repeat it for coordinators sharing a ledger (each agent starts at one at random and moves on when a session ends).")
    var port: [Int]

    @Option(help: "The DNS name in the coordinator's certificate.")
    var serverName = "localhost"

    @Option(help: "The fleet CA certificate (make-pki.sh's ca.pem).")
    var ca: String

    @Option(help: "The fleet CA's private key (ca.key), which issues the agents' certificates.")
    var caKey: String

    @Option(help: "Where issued agent certificates are kept and reused (default: agents-loadgen beside the CA).")
    var certCache: String?

    @Option(help: "Simulated agents.")
    var agents = 1000

    @Option(help: "Agents started per second.")
    var rampPerSecond = 500.0

    @Option(help: "Seconds between one agent's windows.")
    var windowInterval = 10.0

    @Option(help: "Seconds of windows from the start; then the last acks are awaited (--drain-timeout).")
    var duration = 60.0

    @Option(help: "Seconds to wait for the last acks after --duration.")
    var drainTimeout = 30.0

    @Option(help: "The true accuracy drop the windows are drawn at, as a percentage, e.g. 0.5%.")
    var trueDrop = TrueDropArgument(fraction: 0.005)

    @Option(help: "labelled (paired accuracy drop) or unlabelled (top-1 disagreement).")
    var evidence = PolicySimulation.Evidence.labelled

    @Flag(help: "Download each assignment's models instead of reporting them cached.")
    var download = false

    @Option(help: "The coordinator's policy file, for the bands the expected decision is read against (default 1 % and 3 %).")
    var policy: String?

    @Option(help: "The coordinator's ledger, read-only at the end for the decision (the wire shows only a staged rollout's promotion or rollback).")
    var ledger: String?

    @Option(help: "Agent ids are PREFIX-00001, PREFIX-00002, ...")
    var idPrefix = "sim"

    @Option(help: "Seed of the windows' random draws.")
    var seed: UInt64 = 1

    func run() async throws {
        let limit = FileLimit.raiseSoftToHard()
        if let warning = limit.warning(connections: agents, role: "loadgen --agents") { print("warning: \(warning)") }
        var evidence = SimulatedEvidence(trueDrop: trueDrop.fraction, evidence: self.evidence)
        evidence.candidateGainRate = PolicySimulation.Settings().candidateGainRate
        var plan = LoadPlan(
            host: host, ports: port, agents: agents, rampPerSecond: rampPerSecond, windowInterval: .seconds(windowInterval),
            duration: .seconds(duration), evidence: evidence)
        plan.serverHostname = serverName
        plan.drainTimeout = .seconds(drainTimeout)
        plan.download = download
        plan.idPrefix = idPrefix
        plan.seed = seed
        let cache = certCache.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: ca).deletingLastPathComponent().appendingPathComponent("agents-loadgen")
        var logger = Logger(label: "quantfleet.loadgen")
        logger.logLevel = .error
        let generator: LoadGenerator
        do {
            generator = try LoadGenerator(
                plan: plan, ca: .init(certificate: ca, privateKey: caKey, cacheDirectory: cache), logger: logger)
        } catch let error as LoadPlan.PlanError {
            throw ValidationError(error.description)
        }
        let bands = try policy.map { try Policy.read(file: $0) }.map { ($0.shipBelow, $0.stayFP16Above) } ?? (0.01, 0.03)
        let prepared = try generator.prepareAgents()
        print(String(format: "%d agents ready (%d certificates issued, %.2f s); open files limit %llu; ramp %.0f/s",
                     agents, prepared.issued, prepared.elapsed / .seconds(1),
                     limit.soft, rampPerSecond))
        var result = try await generator.run(prepared) { progress in
            let m = progress.snapshot
            print(String(format: "+%5.1f s  connected %d/%d  windows made %d acked %d  unix_ms %lld",
                         Double(progress.elapsed.components.seconds), m.connected, progress.agents, m.windowsMade, m.windowsAcked,
                         Int64(Date().timeIntervalSince1970 * 1000)))
        }
        (result.shipBelow, result.stayFP16Above) = bands
        if let ledger {
            result.ledgerDecision = try LedgerDecision.read(ledger: ledger, assignmentIDs: result.measurements.assignmentsSeen)
        }
        for line in result.lines { print(line) }
        let (clockNow, dateNow) = (ContinuousClock.now, Date())
        func date(_ instant: ContinuousClock.Instant?) -> Date? {
            instant.map { dateNow.addingTimeInterval(-($0.duration(to: clockNow) / .seconds(1))) }
        }
        for (name, date) in [("started", result.timeline.started), ("all-connected", result.timeline.allConnected),
                             ("windows-ended", result.timeline.windowsEnded), ("drained", result.timeline.drained),
                             ("first-model-requested", date(result.measurements.firstModelRequestAt)),
                             ("last-model-verified", date(result.measurements.lastModelVerifiedAt))] {
            if let date { print("phase \(name) unix_ms \(Int64(date.timeIntervalSince1970 * 1000))") }
        }
        // A wrong decision or a window never acked is a failed run; no decision yet is not.
        if result.timeline.unackedAtEnd > 0 || result.observedOutcome.map({ $0 != result.expectedOutcome }) == true {
            throw ExitCode(1)
        }
    }
}

/// A true drop written as a percentage ("0.5%"): a bare number would be ambiguous between 0.5 and 0.5 %.
struct TrueDropArgument: ExpressibleByArgument {
    let fraction: Double

    init(fraction: Double) { self.fraction = fraction }

    init?(argument: String) {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix("%"), let percent = Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces)),
              (0..<100).contains(percent) else { return nil }
        fraction = percent / 100
    }

    var defaultValueDescription: String { "\(fraction * 100)%" }
    static var defaultCompletionKind: CompletionKind { .default }
}

extension PolicySimulation.Evidence: ExpressibleByArgument {}
