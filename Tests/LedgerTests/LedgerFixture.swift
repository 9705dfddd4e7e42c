import Foundation
import Ledger
import ShadowEval
import XCTest

/// A fresh ledger file in its own temporary directory, with a reference and a candidate model.
struct LedgerFixture {
    let directory: URL
    let path: String
    let ledger: Ledger
    static let referenceSHA256 = String(repeating: "a", count: 64)
    static let candidateSHA256 = String(repeating: "b", count: 64)

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-tests-\(UUID().uuidString)", isDirectory: true)
        // A nested path also checks that the ledger creates its directory.
        path = directory.appendingPathComponent("state/ledger.sqlite").path
        ledger = try Ledger(path: path)
        let registered = Date(timeIntervalSince1970: 1_800_000_000)
        try ledger.registerModel(
            ModelRecord(sha256: Self.referenceSHA256, name: "digits", precision: "fp16", sizeBytes: 2_000,
                        registeredAt: registered))
        try ledger.registerModel(
            ModelRecord(sha256: Self.candidateSHA256, name: "digits", precision: "int8", sizeBytes: 1_000,
                        registeredAt: registered))
    }

    func makeRollout() throws -> RolloutRecord {
        try ledger.ensureRollout(
            modelName: "digits", referenceSHA256: Self.referenceSHA256, candidateSHA256: Self.candidateSHA256,
            samplingRate: 0.1, windowSize: 100, policyVersion: "test.1")
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    static func window(
        agent: String = "agent-1", assignment: String, sequence: Int64, count: Int = 100, agreements: Int = 98,
        labelled: Int = 10, referenceOnly: Int = 1, candidateOnly: Int = 0
    ) -> WindowRecord {
        WindowRecord(
            agentID: agent, assignmentID: assignment, sequence: sequence, kernelPath: "avx2",
            summary: WindowSummary(
                count: count, top1Agreements: agreements, klDivergenceSum: 0.5, maxAbsDiff: 0.1,
                labelled: labelled, referenceCorrect: labelled - 1,
                candidateCorrect: labelled - 1 - referenceOnly + candidateOnly,
                referenceOnlyCorrect: referenceOnly, candidateOnlyCorrect: candidateOnly,
                referenceLatencyMicrosSum: 10_000, candidateLatencyMicrosSum: 4_000, shadowDrops: 2,
                startedAtMillis: 1_000 * sequence, endedAtMillis: 1_000 * sequence + 999))
    }
}

extension XCTestCase {
    /// A fixture removed when the test ends.
    func makeFixture() throws -> LedgerFixture {
        let fixture = try LedgerFixture()
        addTeardownBlock { fixture.remove() }
        return fixture
    }
}
