import FaultInjection
import Foundation
import Ledger
import Operations
import XCTest

/// A PostgreSQL ledger whose server is cut off without a reset (a black-hole partition): the first
/// write meeting it fails as `LedgerUnreachable` after one statement timeout (a coordinator lets its
/// agents go on that error, so a second wait would keep them twice as long), and the first write
/// after the route is back reconnects and commits.
final class PostgresPartitionTests: XCTestCase {
    func testAWriteIntoAPartitionFailsAsUnreachableAfterOneTimeoutAndTheNextAfterItReconnects() async throws {
        let server = try PostgresServer.start()
        addTeardownBlock { try? server.stop() }
        try server.psql("CREATE DATABASE partitioned")
        let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: server.port)
        addTeardownBlock { await proxy.stop() }
        let url = server.url(database: "partitioned").replacingOccurrences(of: ":\(server.port)/", with: ":\(proxy.port)/")
        let ledger = try Ledger(location: .postgres(try PostgresLocation(parsing: url + "?sslmode=disable", environment: [:])))
        var registered = 0
        func register(_ name: String) throws {
            registered += 1
            try ledger.registerModel(ModelRecord(
                sha256: String(repeating: "0", count: 63) + "\(registered)", name: name, precision: "fp32", sizeBytes: 1, registeredAt: Date()))
        }
        try register("before")

        proxy.partition()
        let started = ContinuousClock.now
        XCTAssertThrowsError(try register("during")) { error in
            XCTAssertTrue(error is LedgerUnreachable, "\(type(of: error)): \(error)")
            XCTAssertTrue("\(error)".contains("did not answer within"), "\(error)")
        }
        let waited = started.duration(to: .now)
        XCTAssertLessThan(waited, Ledger.postgresStatementTimeout + .seconds(3), "one statement timeout, not two")
        XCTAssertGreaterThanOrEqual(waited, Ledger.postgresStatementTimeout, "no sooner than the timeout")

        proxy.heal()
        try register("after")
        XCTAssertEqual(try ledger.models().map(\.name).sorted(), ["after", "before"])
    }
}
