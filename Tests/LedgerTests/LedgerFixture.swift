import Foundation
@testable import Ledger
import Operations
import ShadowEval
import XCTest

/// The engines every ledger test runs on.
enum LedgerEngine: CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    var description: String { self == .sqlite ? "SQLite" : "PostgreSQL" }
}

/// A fresh ledger with a reference and a candidate model: a file in its own temporary directory, or
/// a database of its own on the test process's PostgreSQL server.
struct LedgerFixture {
    let engine: LedgerEngine
    /// A temporary directory of the test's own, whatever the engine.
    let directory: URL
    let location: LedgerLocation
    let ledger: Ledger
    static let referenceSHA256 = String(repeating: "a", count: 64)
    static let candidateSHA256 = String(repeating: "b", count: 64)

    init(_ engine: LedgerEngine = .sqlite) throws {
        self.engine = engine
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch engine {
        case .sqlite:
            // A nested path also checks that the ledger creates its directory.
            location = .file(directory.appendingPathComponent("state/ledger.sqlite").path)
        case .postgres:
            location = try TestPostgres.freshDatabase()
        }
        ledger = try Ledger(location: location)
        // The fixture's ledger decides as the rollout controller does: in a term of its own.
        try ledger.acquireControllerTerm(holder: "ledger-tests", lasting: .seconds(3600))
        let registered = Date(timeIntervalSince1970: 1_800_000_000)
        try ledger.registerModel(
            ModelRecord(sha256: Self.referenceSHA256, name: "digits", precision: "fp16", sizeBytes: 2_000,
                        registeredAt: registered))
        try ledger.registerModel(
            ModelRecord(sha256: Self.candidateSHA256, name: "digits", precision: "int8", sizeBytes: 1_000,
                        registeredAt: registered))
    }

    /// The same ledger opened read-only, as `quantfleet ledger` opens it.
    func openReader() throws -> LedgerReader {
        try Ledger.openReadOnly(location: location)
    }

    /// The same ledger opened again, as a restarted (or a second) coordinator opens it.
    func reopen() throws -> Ledger {
        try Ledger(location: location)
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

/// A ledger test case: `onEachEngine` runs a test on SQLite and on PostgreSQL, and a failure says
/// which engine it happened on.
class LedgerTestCase: XCTestCase {
    private var engine: LedgerEngine?

    /// Runs `body` once per engine, each time with a fresh fixture removed afterwards.
    func onEachEngine(_ body: (LedgerFixture) throws -> Void) throws {
        for engine in LedgerEngine.allCases {
            self.engine = engine
            defer { self.engine = nil }
            let fixture = try LedgerFixture(engine)
            defer { fixture.remove() }
            try body(fixture)
        }
    }

    override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool) {
        super.recordFailure(
            withDescription: engine.map { "on \($0): \(description)" } ?? description, inFile: filePath, atLine: lineNumber,
            expected: expected)
    }
}
