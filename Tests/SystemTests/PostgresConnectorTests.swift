import Foundation
import Ledger
import Logging
import Operations
import XCTest

/// The start-up check of a PostgreSQL ledger, against a real server: each way of failing is named.
final class PostgresConnectorTests: XCTestCase {
    private static let logger = Logger(label: "postgres-connector-tests")

    private func check(_ url: String) async throws -> Int {
        try await PostgresConnector(location: try PostgresLocation(parsing: url, environment: [:]), logger: Self.logger).check()
    }

    private func assertRefused(_ url: String, saying expected: String, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await check(url)
            XCTFail("\(url) was accepted", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
        }
    }

    func testTheServerIsCheckedAndEachRefusalNamed() async throws {
        let server = try PostgresServer.start()
        defer { try? server.stop() }
        let version = try await check(server.url() + "?sslmode=disable")
        XCTAssertGreaterThanOrEqual(version, PostgresConnector.oldestServerVersion)

        let wrongPassword = server.url().replacingOccurrences(of: server.password, with: "wrong") + "?sslmode=disable"
        await assertRefused(wrongPassword, saying: "PostgreSQL at 127.0.0.1:\(server.port) refused user quantfleet: password authentication failed")
        await assertRefused(server.url(database: "no_such_ledger") + "?sslmode=disable",
                            saying: "PostgreSQL at 127.0.0.1:\(server.port) has no database no_such_ledger")
        await assertRefused(server.url() + "?sslmode=require", saying: "does not offer TLS, which sslmode=require demands")
        let noPassword = server.url().replacingOccurrences(of: ":\(server.password)", with: "") + "?sslmode=disable"
        await assertRefused(noPassword, saying: "asks user quantfleet for a password, and none was given")

        // Through the server's Unix socket: the directory in host=, the port in the authority, as libpq has it.
        let bySocket = "postgres://\(PostgresServer.superuser):\(server.password)@:\(server.port)/postgres?host=\(server.directory.path)"
        let versionBySocket = try await check(bySocket)
        XCTAssertEqual(versionBySocket, version)
    }

    func testNoServerThereIsNamedAsUnreachable() async throws {
        let port = try FreePort.allocate()
        await assertRefused("postgres://quantfleet:x@127.0.0.1:\(port)/postgres?sslmode=disable",
                            saying: "cannot reach PostgreSQL at 127.0.0.1:\(port)")
    }
}
