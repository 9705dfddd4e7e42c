import Foundation
import Ledger
import Logging
import Operations
import XCTest

/// `quantfleet ledger query --db postgres://...`: read-only on PostgreSQL too.
final class PostgresLedgerQueryTests: XCTestCase {
    func testQueriesReadAndWritesAreRefusedByTheReadOnlyTransaction() async throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        let url = server.url() + "?sslmode=disable"
        let quantfleet = SystemTestSupport.executables.appendingPathComponent("quantfleet").path

        XCTAssertThrowsError(try ToolRun.output(of: quantfleet, ["ledger", "query", "--db", url, "SELECT 1"])) { error in
            XCTAssertTrue("\(error)".contains("is not a QuantFleet ledger"), "\(error)")
        }
        try PostgresConnector(location: try PostgresLocation(parsing: url, environment: [:]), logger: Logger(label: "test")).migrate()
        try server.psql("""
            INSERT INTO agents (id, kernel_path, agent_version, first_seen_at, last_seen_at, labels)
            VALUES ('agent-1', 'avx2', '1.0', '2027-01-01 09:00:00.250+00', '2027-01-01 09:05:00+00', '{"site": "plant-7"}')
            """)
        let output = try ToolRun.output(of: quantfleet, [
            "ledger", "query", "--db", url, "--json",
            "SELECT agent_id, labels->>'site' AS site, first_seen_at, windows, samples FROM agent_health",
        ])
        let rows = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: String]]
        XCTAssertEqual(rows, [[
            "agent_id": "agent-1", "site": "plant-7", "first_seen_at": "2027-01-01 09:00:00.250", "windows": "0", "samples": "0",
        ]])
        XCTAssertThrowsError(try ToolRun.output(of: quantfleet, ["ledger", "query", "--db", url, "DELETE FROM agents"])) { error in
            XCTAssertTrue("\(error)".contains("read-only transaction"), "\(error)")
        }
        XCTAssertEqual(try server.psql("SELECT count(*) FROM agents"), "1")
    }
}
