import Foundation
import Ledger
import XCTest

/// `quantfleet ledger backup` on a SQLite ledger that a writer keeps ingesting into: every backup is
/// a consistent snapshot that verifies, and a damaged or refused backup never leaves a file with the
/// backup's name.
final class BackupTests: XCTestCase {
    func testBackupsTakenUnderIngestLoadVerify() throws {
        let fixture = try LedgerFixture(.sqlite)
        defer { fixture.remove() }
        guard case .file(let path) = fixture.location else { return XCTFail("a SQLite fixture has a file") }
        let assignmentID = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id).id
        let writer = IngestingWriter(ledger: fixture.ledger, assignmentID: assignmentID)
        defer { writer.stop() }
        while writer.written < 500 { Thread.sleep(forTimeInterval: 0.01) }

        var backedUp: [Int] = []
        for index in 1...3 {
            let output = fixture.directory.appendingPathComponent("backup-\(index).sqlite").path
            let report = try LedgerBackup.backup(ledger: path, to: output)
            XCTAssertTrue(report.verification.passed, "backup \(index): \(report.verification.mismatches)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".partial"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: output + "-wal"), "a backup is one self-contained file")
            // Checked again as `ledger verify` checks it: its pages and its totals.
            guard case .totals(let totals) = try Ledger.openReadOnly(path: output).check() else {
                return XCTFail("backup \(index): damaged pages")
            }
            XCTAssertTrue(totals.passed, "backup \(index): \(totals.mismatches)")
            backedUp.append(report.windows)
        }
        writer.stop()
        let final = Int(try fixture.openReader().query("SELECT count(*) FROM windows").rows[0][0]) ?? 0
        XCTAssertEqual(backedUp, backedUp.sorted(), "later backups hold at least the windows of earlier ones")
        XCTAssertGreaterThanOrEqual(backedUp[0], 500)
        XCTAssertLessThan(backedUp[2], final, "the writer went on during the backups")
        XCTAssertEqual(final, writer.written, "every committed window is in the ledger")
        XCTAssertEqual(writer.refused, [], "no batch was refused while the backups ran")
    }

    func testABackupNeverOverwritesAndAMissingLedgerIsNamed() throws {
        let fixture = try LedgerFixture(.sqlite)
        defer { fixture.remove() }
        guard case .file(let path) = fixture.location else { return XCTFail("a SQLite fixture has a file") }
        let existing = fixture.directory.appendingPathComponent("existing.sqlite").path
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        XCTAssertThrowsError(try LedgerBackup.backup(ledger: path, to: existing)) { error in
            XCTAssertTrue("\(error)".contains("the file exists; a backup never overwrites one"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me")

        let missing = fixture.directory.appendingPathComponent("no-such-ledger.sqlite").path
        XCTAssertThrowsError(try LedgerBackup.backup(ledger: missing, to: existing + "-2")) {
            XCTAssertEqual($0 as? LedgerError, .missingFile(path: missing))
        }
        let nowhere = fixture.directory.appendingPathComponent("no-such-directory/backup.sqlite").path
        XCTAssertThrowsError(try LedgerBackup.backup(ledger: path, to: nowhere)) { error in
            XCTAssertTrue("\(error)".contains("ledger backup to \(nowhere)"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: nowhere))
    }

    func testVerifyFindsADamagedBackup() throws {
        let fixture = try LedgerFixture(.sqlite)
        defer { fixture.remove() }
        guard case .file(let path) = fixture.location else { return XCTFail("a SQLite fixture has a file") }
        let assignmentID = try fixture.ledger.assignment(forRollout: fixture.makeRollout().id).id
        for sequence in 0..<2_000 {
            _ = try fixture.ledger.ingest(LedgerFixture.window(assignment: assignmentID, sequence: Int64(sequence)))
        }
        let output = fixture.directory.appendingPathComponent("backup.sqlite").path
        _ = try LedgerBackup.backup(ledger: path, to: output)

        // Zeroes a stretch of pages in the middle of the file, as a bad sector or a torn copy would.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: output))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0, count: 16_384))
        try handle.close()

        do {
            if case .totals(let totals) = try Ledger.openReadOnly(path: output).check() {
                XCTAssertFalse(totals.passed, "a damaged backup passed both checks")
            }
        } catch {
            // Damage SQLite meets before the checks run is refused as well.
        }
    }
}

/// A thread committing batches of 50 windows (five agents), as a coordinator under load does,
/// until stopped.
private final class IngestingWriter: @unchecked Sendable {
    // @unchecked: `count` and `running` are only touched holding `lock`.
    private let lock = NSLock()
    private var count = 0
    private var running = true
    private var failures: [String] = []
    private let finished = DispatchSemaphore(value: 0)

    init(ledger: Ledger, assignmentID: String) {
        Thread.detachNewThread { [self] in
            var sequence: Int64 = 0
            while lock.withLock({ running }) {
                let batch = (0..<50).map { offset in
                    LedgerFixture.window(agent: "agent-\(offset % 5)", assignment: assignmentID, sequence: sequence + Int64(offset / 5))
                }
                sequence += 10
                do {
                    _ = try ledger.ingest(batch)
                    lock.withLock { count += batch.count }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
            }
            finished.signal()
        }
    }

    /// Windows committed so far.
    var written: Int { lock.withLock { count } }
    /// Batches the ledger refused, with why.
    var refused: [String] { lock.withLock { failures } }

    /// Stops the writer and waits for its last batch; later calls return at once.
    func stop() {
        let wasRunning = lock.withLock { defer { running = false }; return running }
        if wasRunning { finished.wait() }
    }
}
