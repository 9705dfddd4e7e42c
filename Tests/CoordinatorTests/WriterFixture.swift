import Foundation
import Ledger
import Logging
import ShadowEval
import XCTest

@testable import Coordinator

/// A real ledger file with one rollout, its controller and its writer.
struct WriterFixture: Sendable {
    let ledger: Ledger
    let controller: RolloutController
    let writer: LedgerWriter
    let metrics = CoordinatorMetrics()
    let logger = Logger(label: "coordinator-tests")
    let assignmentID: String

    init(for test: XCTestCase, minimumCommitInterval: Duration = .zero) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-writer-\(UUID().uuidString)")
        test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        ledger = try Ledger(path: directory.appendingPathComponent("ledger.sqlite").path)
        try ledger.acquireControllerTerm(holder: "coordinator-tests", lasting: .seconds(3600))
        let (reference, candidate) = (String(repeating: "a", count: 64), String(repeating: "b", count: 64))
        for (sha256, precision) in [(reference, "fp16"), (candidate, "int8")] {
            try ledger.registerModel(ModelRecord(sha256: sha256, name: "digits", precision: precision, sizeBytes: 1, registeredAt: Date()))
        }
        let rollout = try ledger.ensureRollout(
            modelName: "digits", referenceSHA256: reference, candidateSHA256: candidate, samplingRate: 1, windowSize: 10,
            policyVersion: "writer.1")
        assignmentID = try ledger.assignment(forRollout: rollout.id).id
        let policy = Policy(version: "writer.1", shipBelow: 0.01, stayFP16Above: 0.03, confidence: 0.95, minimumSamples: 100, minimumLabelled: 100)
        controller = RolloutController(
            ledger: ledger, store: try ModelStore(root: directory.appendingPathComponent("store").path), policy: policy,
            metrics: metrics, logger: logger)
        writer = LedgerWriter(
            ledger: ledger, controller: controller, maximumBatch: 64, minimumCommitInterval: minimumCommitInterval, metrics: metrics,
            reachability: LedgerReachability(logger: logger) {}, logger: logger)
    }

    func window(agent: String, sequence: Int) -> WindowRecord {
        WindowRecord(
            agentID: agent, assignmentID: assignmentID, sequence: Int64(sequence), kernelPath: "avx2",
            summary: WindowSummary(count: 10, top1Agreements: 10, referenceLatencyMicrosSum: 100, candidateLatencyMicrosSum: 50),
            agreementByClass: [1: AgreementCounts(samples: 10, agreements: 10)])
    }

    /// A counter's value as the metrics endpoint reports it.
    func metric(_ name: String) -> Int? {
        metrics.registry.emitToString().split(separator: "\n")
            .first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
            .map { Int($0) }
    }
}
