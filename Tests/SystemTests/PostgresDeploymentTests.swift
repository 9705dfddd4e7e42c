import Foundation
import Ledger
import Logging
import Operations
import XCTest

/// Deploy/postgres/setup.sql on a real server: the coordinator's role migrates the ledger, the
/// reader's role reads it through `quantfleet ledger query` and cannot write.
final class PostgresDeploymentTests: XCTestCase {
    func testTheCoordinatorRoleMigratesAndTheReaderRoleOnlyReads() async throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        let setup = SystemTestSupport.packageRoot.appendingPathComponent("Deploy/postgres/setup.sql").path
        try ToolRun.output(of: "/usr/bin/psql", [
            "-X", "-v", "ON_ERROR_STOP=1", "-v", "coordinator_password=coordinator-secret", "-v", "reader_password=reader-secret",
            "-d", server.url(), "-f", setup,
        ])
        let ledger = { (role: String, password: String) in
            "postgres://\(role):\(password)@127.0.0.1:\(server.port)/quantfleet?sslmode=disable"
        }
        try PostgresConnector(
            location: try PostgresLocation(parsing: ledger("quantfleet_coordinator", "coordinator-secret"), environment: [:]),
            logger: Logger(label: "deployment-test")).migrate()

        let reader = ledger("quantfleet_reader", "reader-secret")
        let quantfleet = SystemTestSupport.executables.appendingPathComponent("quantfleet").path
        let counted = try ToolRun.output(of: quantfleet, ["ledger", "query", "--db", reader, "--json", "SELECT count(*) AS n FROM rollout_summary"])
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(counted.utf8)) as? [[String: String]], [["n": "0"]])

        // Past the read-only transaction too: the role has no write grants.
        let psqlAsReader = ["-X", "-v", "ON_ERROR_STOP=1", "-d", reader, "-c",
                            "SET default_transaction_read_only = off; BEGIN READ WRITE; DELETE FROM agents; COMMIT"]
        XCTAssertThrowsError(try ToolRun.output(of: "/usr/bin/psql", psqlAsReader)) { error in
            XCTAssertTrue("\(error)".contains("permission denied for table agents"), "\(error)")
        }
    }
}
