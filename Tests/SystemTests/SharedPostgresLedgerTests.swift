import Foundation
import Ledger
import Operations
import XCTest

/// Several coordinators on one PostgreSQL ledger, as real processes: agents spread over them, the
/// controller's term held by one, and that one SIGKILLed in the middle of the rollout. Another takes
/// the term over within 10 s, the rollout is decided as without the kill, and every decision row was
/// written in its term by the term's holder.
final class SharedPostgresLedgerTests: XCTestCase {
    func testThreeCoordinatorsDecideTheRolloutThoughTheControllersHolderIsKilled() async throws {
        let server = try PostgresServer.start()
        addTeardownBlock { try? server.stop() }
        try server.psql("CREATE DATABASE ledger")
        let uri = server.url(database: "ledger") + "?sslmode=disable"
        let agentIDs = (1...6).map { "agent-\($0)" }
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory("shared-ledger"))
        // Enough samples that the kill lands before the decision.
        var settings = try SystemTestSupport.quickRollout(in: layout, agents: agentIDs, minimumSamples: 12_000)
        settings.ledger = uri
        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinators(3, settings)
        for id in agentIDs { try fleet.startAgent(id) }
        try await fleet.waitUntilReady(agentIDs)
        let ledger = try Ledger.openReadOnly(location: try LedgerLocation(parsing: uri, environment: [:]))

        let traffic = TrafficRounds.start(
            agents: agentIDs.compactMap { fleet.agentURLs[$0] }, data: SystemTestSupport.traffic, model: SystemTestSupport.modelName,
            roundSize: 100, requestTimeout: .seconds(5))
        try await SystemTestSupport.eventually(timeout: .seconds(60), "a third of the samples stored") {
            Int(try ledger.query("SELECT COALESCE(SUM(count), 0) FROM windows").rows[0][0]) ?? 0 >= 4000
        }
        let holderTerm = try XCTUnwrap(try Self.latestTerm(ledger))
        let holderIndex = try XCTUnwrap(fleet.coordinatorIndex(holding: holderTerm.holder), holderTerm.holder)
        fleet.killCoordinator(holderIndex)
        let killedAt = Date()

        try await SystemTestSupport.eventually(timeout: .seconds(20), "another coordinator takes the controller term") {
            (try Self.latestTerm(ledger)?.token ?? 0) > holderTerm.token
        }
        let successor = try XCTUnwrap(try Self.latestTerm(ledger))
        XCTAssertLessThan(successor.startedAt.timeIntervalSince(killedAt), 10, "the killed holder was replaced within 10 s")
        XCTAssertFalse(successor.holder.contains(":\(fleet.coordinatorPorts[holderIndex])/"))

        try await SystemTestSupport.eventually(timeout: .seconds(180), "the rollout is decided") {
            try ledger.query("SELECT status FROM rollouts").rows.first?.first == "decided"
        }
        let answered = await traffic.stop()
        XCTAssertGreaterThan(answered, 12_000)
        XCTAssertEqual(try ledger.query("SELECT outcome FROM rollouts").rows, [["ship"]], "the same outcome as without the kill")

        // Every decision row was written during its token's term (the database refuses any other).
        let terms = try ledger.query("SELECT token, started_at, expires_at FROM controller_terms").rows
        let spans = Dictionary(uniqueKeysWithValues: terms.map { ($0[0], ($0[1], $0[2])) })
        let decisions = try ledger.query("SELECT fencing_token, decided_at FROM decisions ORDER BY id").rows
        XCTAssertFalse(decisions.isEmpty)
        for decision in decisions {
            let span = try XCTUnwrap(spans[decision[0]], "decision with token \(decision[0])")
            XCTAssertTrue(span.0 <= decision[1] && decision[1] <= span.1, "decided at \(decision[1]) outside term \(decision[0]) \(span)")
        }
        XCTAssertTrue(decisions.contains { $0[0] == String(successor.token) }, "the successor decided")
        XCTAssertTrue(try ledger.verifyRunningTotals().passed)
    }

    private static func latestTerm(_ ledger: LedgerReader) throws -> (token: Int64, holder: String, startedAt: Date)? {
        guard let row = try ledger.query("SELECT token, holder, started_at FROM controller_terms ORDER BY token DESC LIMIT 1").rows.first
        else { return nil }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return (Int64(row[0])!, row[1], formatter.date(from: row[2])!)
    }
}
