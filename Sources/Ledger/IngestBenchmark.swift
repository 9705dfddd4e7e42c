import Foundation
import NIOConcurrencyHelpers
import ShadowEval

/// `quantfleet ledger bench`: how fast the ledger stores windows the way the coordinator writes a
/// burst (a batch of windows per transaction, each with its class rows and the running totals), and
/// what one evaluation of the rollout costs as it grows. Synthetic windows of 100 samples over ten
/// classes (10 labelled), from 1,000 agents, into a new ledger file. The agents send in turn; by
/// default they are in step (a stage's agents start together, so a batch holds one sequence number),
/// and `sequenceSpread` puts them out of step by up to that many windows. On PostgreSQL, `writers`
/// ledgers (coordinators' write paths) may store batches at once, each on its own connection.
public enum IngestBenchmark {
    /// The measurement at one rollout size.
    public struct Checkpoint: Sendable {
        /// Windows in the rollout.
        public var windows: Int
        /// Ingest speed over the windows since the previous checkpoint.
        public var windowsPerSecond: Double
        /// Rows written per second: each window's row and its ten class rows.
        public var rowsPerSecond: Double
        /// One evaluation (read the stage's evidence, judge it and its slices), averaged over 20.
        public var evaluationMillis: Double { readMillis + judgeMillis }
        /// Reading the stage's evidence: its running totals, betting processes decoded.
        public var readMillis: Double
        /// Judging the evidence and its slices: the bounds (the betting processes' bisections).
        public var judgeMillis: Double
        public var ledgerBytes: Int
    }

    /// The policy evaluated: the shipped bands, with the class and kernel-path slices.
    static let policy = Policy(
        version: "bench.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95, minimumSamples: 2_000, minimumLabelled: 1_000,
        slices: SlicePolicy(dimensions: [.class, .kernelPath], minimumSamples: 1_000))
    static let agents = 1_000
    static let classes = 10

    /// Fills a new ledger at `path` up to the largest checkpoint, `batch` windows per transaction,
    /// reporting each checkpoint as it is reached.
    public static func run(
        path: String, checkpoints: [Int], batch: Int, sequenceSpread: Int = 0, reached: (Checkpoint) -> Void = { _ in }
    ) throws -> [Checkpoint] {
        try run(location: .file(path), checkpoints: checkpoints, batch: batch, sequenceSpread: sequenceSpread, reached: reached)
    }

    /// The same into a new ledger at `location` (an empty PostgreSQL database, or a new file), with
    /// `writers` ledgers storing batches at once (PostgreSQL only: SQLite has one coordinator).
    public static func run(
        location: LedgerLocation, writers: Int = 1, checkpoints: [Int], batch: Int, sequenceSpread: Int = 0,
        reached: (Checkpoint) -> Void = { _ in }
    ) throws -> [Checkpoint] {
        precondition(batch >= 1 && checkpoints.allSatisfy { $0 >= 1 } && sequenceSpread >= 0, "positive sizes")
        if case .file = location { precondition(writers == 1, "several writers share a PostgreSQL ledger, not a SQLite file") }
        let ledger = try Ledger(location: location)
        let others = try (1..<writers).map { _ in try Ledger(location: location) }
        let (reference, candidate) = (String(repeating: "a", count: 64), String(repeating: "b", count: 64))
        for (sha256, precision) in [(reference, "fp16"), (candidate, "int8")] {
            try ledger.registerModel(ModelRecord(sha256: sha256, name: "bench", precision: precision, sizeBytes: 1, registeredAt: Date()))
        }
        let rollout = try ledger.ensureRollout(
            modelName: "bench", referenceSHA256: reference, candidateSHA256: candidate, samplingRate: 1, windowSize: 100,
            policyVersion: policy.version)
        let assignment = try ledger.assignment(forRollout: rollout.id).id
        var results: [Checkpoint] = []
        var stored = 0
        for target in checkpoints.sorted() {
            let from = stored
            let writing = [ledger] + others
            let ingest = try seconds {
                // Writer w stores batches w, w + writers, ...: disjoint windows, as coordinators' agents are.
                let batches = stride(from: stored, to: target, by: batch).map { $0..<min(target, $0 + batch) }
                try concurrently(writing.count) { writer in
                    for numbers in batches.enumerated().filter({ $0.offset % writing.count == writer }).map(\.element) {
                        _ = try writing[writer].ingest(numbers.map { window(number: $0, assignment: assignment, sequenceSpread: sequenceSpread) })
                    }
                }
                stored = target
            }
            let evaluations = 20
            var evidence: RolloutEvidence?
            let read = try seconds {
                for _ in 0..<evaluations { evidence = try ledger.rolloutEvidence(forRollout: rollout.id, stage: 0) }
            }
            let judge = seconds {
                for _ in 0..<evaluations { _ = PolicyEvaluator.decide(evidence!, policy: policy) }
            }
            let windowsPerSecond = Double(stored - from) / ingest
            let checkpoint = Checkpoint(
                windows: stored, windowsPerSecond: windowsPerSecond, rowsPerSecond: windowsPerSecond * Double(1 + classes),
                readMillis: read * 1000 / Double(evaluations), judgeMillis: judge * 1000 / Double(evaluations),
                ledgerBytes: try ledger.storageBytes())
            reached(checkpoint)
            results.append(checkpoint)
        }
        return results
    }

    /// Window `number` of the benchmark: agent `number % 1000`, 100 samples over ten classes, 10 of
    /// them labelled, about one in seven windows with a sample only the reference got right. Agent i
    /// numbers its windows from an offset in 0...sequenceSpread (a permutation of the agents).
    public static func window(number: Int, assignment: String, sequenceSpread: Int = 0) -> WindowRecord {
        let referenceOnly = number % 7 == 0 ? 1 : 0
        let agent = number % agents
        let sequence = Int64(number / agents + (agent * 7_919) % (sequenceSpread + 1))
        return WindowRecord(
            agentID: "agent-\(agent)", assignmentID: assignment, sequence: sequence, kernelPath: "avx2",
            summary: WindowSummary(
                count: 100, top1Agreements: 99, klDivergenceSum: 0.5, maxAbsDiff: 0.1, labelled: 10, referenceCorrect: 9,
                candidateCorrect: 9 - referenceOnly, referenceOnlyCorrect: referenceOnly, candidateOnlyCorrect: 0,
                referenceLatencyMicrosSum: 10_000, candidateLatencyMicrosSum: 4_000, shadowDrops: 2,
                startedAtMillis: 1_000 * sequence, endedAtMillis: 1_000 * sequence + 999),
            agreementByClass: Dictionary(uniqueKeysWithValues: (0..<classes).map {
                ($0, AgreementCounts(samples: 10, agreements: $0 == number % classes ? 9 : 10))
            }),
            labelsByClass: [number % classes: PairedOutcomes(bothRight: 9 - referenceOnly, onlyReferenceRight: referenceOnly, bothWrong: 1)])
    }

    /// Runs `body(0)`, ..., `body(count - 1)` on threads of their own; the first error is rethrown.
    private static func concurrently(_ count: Int, _ body: @Sendable (Int) throws -> Void) throws {
        let failures = NIOLockedValueBox<[any Error]>([])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            do { try body(index) } catch { failures.withLockedValue { $0.append(error) } }
        }
        if let failure = failures.withLockedValue({ $0.first }) { throw failure }
    }

    private static func seconds(_ body: () throws -> Void) rethrows -> Double {
        try ContinuousClock().measure(body) / .seconds(1)
    }
}
