import Foundation
import Ledger
import ShadowEval
import XCTest

final class ReaderTests: LedgerTestCase {
    func testReaderRefusesWrites() throws {
        try onEachEngine { fixture in
            _ = try fixture.makeRollout()
            let reader = try fixture.openReader()
            for sql in ["DELETE FROM models", "INSERT INTO agents (id, kernel_path, agent_version, first_seen_at, last_seen_at) VALUES ('x', 'y', 'z', 'now', 'now')", "DROP TABLE windows"] {
                XCTAssertThrowsError(try reader.query(sql), sql) { error in
                    guard case .queryFailed(_, let reason)? = error as? LedgerError else {
                        return XCTFail("unexpected error \(error)")
                    }
                    // SQLite: "attempt to write a readonly database"; PostgreSQL: "... in a read-only transaction".
                    XCTAssertTrue(reason.contains("readonly") || reason.contains("read-only transaction"), reason)
                }
            }
            XCTAssertEqual(try reader.query("SELECT COUNT(*) FROM models").rows, [["2"]])
        }
    }

    func testReaderRefusesMissingAndForeignFiles() throws {
        do {
            let fixture = try LedgerFixture(.sqlite)
            defer { fixture.remove() }
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
        let empty = try TestPostgres.freshDatabase()
        XCTAssertThrowsError(try Ledger.openReadOnly(location: empty)) {
            XCTAssertEqual($0 as? LedgerError, .notALedger(path: "\(empty)"))
        }
    }

    func testReopeningKeepsTheData() throws {
        try onEachEngine { fixture in
            let rollout = try fixture.makeRollout()
            let assignment = try fixture.ledger.assignment(forRollout: rollout.id)
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 1))
            let before = try fixture.ledger.evidence(forRollout: rollout.id)

            let reopened = try fixture.reopen()
            XCTAssertEqual(try reopened.evidence(forRollout: rollout.id), before)
            XCTAssertEqual(try reopened.openRollouts(), [rollout])
            XCTAssertEqual(
                try reopened.ingest(LedgerFixture.window(assignment: assignment.id, sequence: 1)), .duplicate)
        }
    }

    /// A reader keeps answering with consistent snapshots while the writer ingests (SQLite: WAL;
    /// PostgreSQL: a REPEATABLE READ transaction per read).
    func testConcurrentReaderWhileWriting() async throws {
        for engine in LedgerEngine.allCases {
            let fixture = try LedgerFixture(engine)
            defer { fixture.remove() }
            try await checkConsistentSnapshots(fixture)
        }
    }

    private func checkConsistentSnapshots(_ fixture: LedgerFixture) async throws {
        let rollout = try fixture.makeRollout()
        let assignmentID = try fixture.ledger.assignment(forRollout: rollout.id).id
        let reader = try fixture.openReader()
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

        XCTAssertEqual(observed, observed.sorted(), "on \(fixture.engine): a later snapshot saw fewer windows")
        XCTAssertTrue(observed.allSatisfy { $0 % windowsPerBatch == 0 }, "on \(fixture.engine): a reader saw half a batch")
        XCTAssertEqual(try reader.windowCounts(forRollout: rollout.id).first?.windows, batches * windowsPerBatch)
    }

    func testBatchIngestIsFast() throws {
        try onEachEngine { fixture in
            let assignmentID = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id).id
            let windows = (0..<5_000).map { LedgerFixture.window(assignment: assignmentID, sequence: Int64($0)) }
            let started = Date()
            _ = try fixture.ledger.ingest(windows)
            let seconds = Date().timeIntervalSince(started)
            // Debug build; well above a per-row-transaction rate, which would take tens of seconds. On
            // PostgreSQL every statement is a round trip, one transaction or many: the batch is
            // checked for being stored, not timed (docs/several-coordinators.md measures it).
            if fixture.engine == .sqlite { XCTAssertLessThan(seconds, 5, "5000 windows took \(seconds) s") }
            XCTAssertEqual(try fixture.openReader().query("SELECT COUNT(*) FROM windows").rows, [["5000"]])
        }
    }
}
