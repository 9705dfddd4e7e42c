import Foundation
import Operations
import XCTest

/// The PostgreSQL server the PostgreSQL ledger's tests and the demo start: a real one, from
/// Debian's package, run as `postgres` when the tests run as root.
final class PostgresServerTests: XCTestCase {
    func testAServerOfItsOwnAnswersTheSuperuserAndRefusesAWrongPassword() throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        XCTAssertEqual(try server.psql("SELECT 40 + 2"), "42")
        let wrong = server.url().replacingOccurrences(of: server.password, with: "not-the-password")
        XCTAssertThrowsError(try ToolRun.output(of: "/usr/bin/psql", ["-X", "-d", wrong, "-c", "SELECT 1"])) { error in
            XCTAssertTrue("\(error)".contains("password authentication failed"), "\(error)")
        }
        try server.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: server.directory.path), "stop removes the cluster")
    }

    func testAKilledServerRestartsOnItsPortWithWhatWasCommitted() throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        try server.psql("CREATE TABLE kept (n integer); INSERT INTO kept VALUES (7)")
        try server.kill()
        XCTAssertThrowsError(try server.psql("SELECT 1"), "a killed server answers nothing")
        try server.restart()
        XCTAssertEqual(try server.psql("SELECT n FROM kept"), "7")
    }
}
