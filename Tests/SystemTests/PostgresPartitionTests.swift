import FaultInjection
import Foundation
import Ledger
import Operations
import Synchronization
import XCTest

/// A PostgreSQL ledger whose server is cut off without a reset (a black-hole partition): the first
/// write meeting it fails as `LedgerUnreachable` after one statement timeout (a coordinator lets its
/// agents go on that error, so a second wait would keep them twice as long), the first write after
/// the route is back reconnects and commits, and the assignment-change channel, which sends nothing
/// and so never fails by itself, is found dead and listened to again.
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

    func testTheAssignmentChangeChannelIsListenedToAgainAfterAPartition() async throws {
        let server = try PostgresServer.start()
        addTeardownBlock { try? server.stop() }
        try server.psql("CREATE DATABASE listening")
        let proxy = try await FaultProxy.start(forwardingTo: "127.0.0.1", port: server.port)
        addTeardownBlock { await proxy.stop() }
        let url = server.url(database: "listening").replacingOccurrences(of: ":\(server.port)/", with: ":\(proxy.port)/")
        let ledger = try Ledger(location: .postgres(try PostgresLocation(parsing: url + "?sslmode=disable", environment: [:])))
        let heard = Atomic(0)
        let listening = Task { await ledger.listenForAssignmentChanges { heard.add(1, ordering: .relaxed) } }
        addTeardownBlock { listening.cancel() }
        func announce() throws { _ = try server.psql("NOTIFY quantfleet_assignments", database: "listening") }

        try await SystemTestSupport.eventually(timeout: .seconds(10), "listening starts") { heard.load(ordering: .relaxed) >= 1 }
        var before = heard.load(ordering: .relaxed)
        try announce()
        try await SystemTestSupport.eventually(timeout: .seconds(10), "a change is heard") { heard.load(ordering: .relaxed) > before }

        proxy.partition()
        try await Task.sleep(for: .seconds(2))
        proxy.heal()
        // The old connection is dead: announcements are lost until the check finds it so (within
        // 5 s + one statement timeout) and listening starts again, which itself counts as a change.
        before = heard.load(ordering: .relaxed)
        let healed = ContinuousClock.now
        try await SystemTestSupport.eventually(timeout: .seconds(40), "listening starts again after the partition") {
            heard.load(ordering: .relaxed) > before
        }
        print("listening again \(healed.duration(to: .now)) after the route was back")
        before = heard.load(ordering: .relaxed)
        try announce()
        try await SystemTestSupport.eventually(timeout: .seconds(10), "a change after the partition is heard") {
            heard.load(ordering: .relaxed) > before
        }
    }
}
