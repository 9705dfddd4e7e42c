import Foundation
import Ledger
import Operations
import XCTest

/// `quantfleet ledger copy` from a SQLite ledger into a real PostgreSQL server, and that ledger
/// backed up with `pg_dump` and restored with `pg_restore` as docs/ledger.md says.
final class LedgerCopyTests: XCTestCase {
    func testASQLiteLedgerMovesIntoPostgreSQLWithEveryRowAndTotal() throws {
        let directory = try SystemTestSupport.scratchDirectory("ledger-copy")
        let path = directory.appendingPathComponent("ledger.sqlite").path
        // Windows past one ingest-order range of the copy, with their class rows, totals and decisions.
        _ = try IngestBenchmark.run(path: path, checkpoints: [25_000], batch: 1_000)
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        try server.psql("CREATE DATABASE ledger")
        let url = server.url(database: "ledger") + "?sslmode=disable"
        let quantfleet = SystemTestSupport.executables.appendingPathComponent("quantfleet").path

        let output = try ToolRun.output(of: quantfleet, ["ledger", "copy", "--from", path, "--to", url])
        XCTAssertTrue(output.contains("verified: every table's rows, and windows.count="), output)
        XCTAssertEqual(try server.psql("SELECT COUNT(*) FROM windows", database: "ledger"), "25000")

        for view in ["rollout_evidence", "stage_evidence ORDER BY agent_id, kernel_path"] {
            let sql = "SELECT * FROM \(view)"
            let fromSQLite = try ToolRun.output(of: quantfleet, ["ledger", "query", "--db", path, "--json", sql])
            let fromPostgres = try ToolRun.output(of: quantfleet, ["ledger", "query", "--db", url, "--json", sql])
            XCTAssertEqual(fromPostgres, fromSQLite, view)
        }
        // The identity sequences carry on after the copied ids.
        let lastDecision = try server.psql("SELECT MAX(id) FROM decisions", database: "ledger")
        XCTAssertEqual(
            try server.psql("SELECT last_value FROM pg_sequences WHERE sequencename = 'decisions_id_seq'", database: "ledger"), lastDecision)

        XCTAssertThrowsError(try ToolRun.output(of: quantfleet, ["ledger", "copy", "--from", path, "--to", url])) { error in
            XCTAssertTrue("\(error)".contains("the PostgreSQL ledger is not empty: models has 2 rows"), "\(error)")
        }

        let dump = directory.appendingPathComponent("ledger.dump").path
        try ToolRun.output(of: "/usr/bin/pg_dump", ["--format=custom", "--file=\(dump)", url])
        try server.psql("CREATE DATABASE ledger_restored")
        let restored = server.url(database: "ledger_restored") + "?sslmode=disable"
        try ToolRun.output(of: "/usr/bin/pg_restore", ["--exit-on-error", "--dbname=\(restored)", dump])
        let verified = try ToolRun.output(of: quantfleet, ["ledger", "verify", "--db", restored])
        XCTAssertTrue(verified.hasPrefix("ok:") && verified.contains("25000 windows"), verified)
        XCTAssertEqual(try server.psql("SELECT COUNT(*) FROM windows", database: "ledger_restored"), "25000")
    }
}
