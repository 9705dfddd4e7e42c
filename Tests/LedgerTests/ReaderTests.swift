import Foundation
import Ledger
import ShadowEval
import XCTest

final class ReaderTests: XCTestCase {
    func testReaderRefusesWrites() throws {
        let fixture = try makeFixture()
        _ = try fixture.makeRollout()
        let reader = try Ledger.openReadOnly(path: fixture.path)
        for sql in ["DELETE FROM models", "INSERT INTO agents (id, kernel_path, agent_version, first_seen_at, last_seen_at) VALUES ('x', 'y', 'z', 'now', 'now')", "DROP TABLE windows"] {
            XCTAssertThrowsError(try reader.query(sql), sql) { error in
                guard case .queryFailed(_, let reason)? = error as? LedgerError else {
                    return XCTFail("unexpected error \(error)")
                }
                XCTAssertTrue(reason.contains("readonly"), reason)
            }
        }
        XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM models").rows, [["2"]])
    }

    func testReaderRefusesMissingAndForeignFiles() throws {
        let fixture = try makeFixture()
        let missing = fixture.directory.appendingPathComponent("nope.sqlite").path
        XCTAssertThrowsError(try Ledger.openReadOnly(path: missing)) {
            XCTAssertEqual($0 as? LedgerError, .missingFile(path: missing))
        }
        let text = fixture.directory.appendingPathComponent("notes.txt")
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: text)
        XCTAssertThrowsError(try Ledger.openReadOnly(path: text.path)) {
            XCTAssertEqual($0 as? LedgerError, .notALedger(path: text.path))
        }
    }

    func testReopeningKeepsTheData() throws {
        let fixture = try makeFixture()
        let rollout = try fixture.makeRollout()
        let assignment = try fixture.ledger.assignment(forRollout: rollout.id)
        _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 1))
        let before = try fixture.ledger.evidence(forRollout: rollout.id)

        let reopened = try Ledger(path: fixture.path)
        XCTAssertEqual(try reopened.evidence(forRollout: rollout.id), before)
        XCTAssertEqual(try reopened.openRollouts(), [rollout])
        XCTAssertEqual(
            try reopened.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 1)), .duplicate)
    }

    /// WAL: a reader keeps answering with consistent snapshots while the writer ingests.
    func testConcurrentReaderWhileWriting() async throws {
        let fixture = try makeFixture()
        let rollout = try fixture.makeRollout()
        let assignmentID = try fixture.ledger.assignment(forRollout: rollout.id).id
        let reader = try Ledger.openReadOnly(path: fixture.path)
        let ledger = fixture.ledger
        let batches = 50
        let windowsPerBatch = 20

        async let written: Void = Task.detached {
            for batch in 0..<batches {
                let windows = (0..<windowsPerBatch).map {
                    LedgerFixture.window(assignment: assignmentID, sequence: Int64(batch * windowsPerBatch + $0))
                }
                _ = try ledger.ingest(windows)
            }
        }.value
        let observed = try await Task.detached {
            var counts: [Int] = []
            for _ in 0..<200 {
                let windows = try reader.windowCounts(forRollout: rollout.id).first?.windows ?? 0
                counts.append(windows)
            }
            return counts
        }.value
        try await written

        XCTAssertEqual(observed, observed.sorted(), "a later snapshot saw fewer windows")
        XCTAssertTrue(observed.allSatisfy { $0 % windowsPerBatch == 0 }, "a reader saw half a batch")
        XCTAssertEqual(try reader.windowCounts(forRollout: rollout.id).first?.windows, batches * windowsPerBatch)
    }

    func testBatchIngestIsFast() throws {
        let fixture = try makeFixture()
        let assignmentID = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id).id
        let windows = (0..<5_000).map { LedgerFixture.window(assignment: assignmentID, sequence: Int64($0)) }
        let started = Date()
        _ = try fixture.ledger.ingest(windows)
        let seconds = Date().timeIntervalSince(started)
        // Debug build; well above a per-row-transaction rate, which would take tens of seconds.
        XCTAssertLessThan(seconds, 5, "5000 windows took \(seconds) s")
    }
}
